SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE EXISTS (SELECT 1 FROM "public"."orders" AS "s1" WHERE "t0"."id" = "s1"."customer_id" AND (SELECT COUNT(*) FROM (SELECT 1 FROM "public"."invoices" AS "s2" WHERE "s1"."id" = "s2"."order_id" LIMIT 2) AS "_c") > $1)
params: [1]
