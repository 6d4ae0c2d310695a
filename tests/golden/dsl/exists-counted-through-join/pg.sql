SELECT "t0"."id" AS "t0__id" FROM "public"."products" AS "t0" LEFT JOIN "public"."orders" AS "t1" ON "t0"."id" = "t1"."product_id" WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM "public"."invoices" AS "s2" WHERE "t1"."id" = "s2"."order_id" LIMIT 1) AS "_c") > $1
params: [0]
