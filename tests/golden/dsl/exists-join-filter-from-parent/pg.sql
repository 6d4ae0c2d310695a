SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" LEFT JOIN "public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" WHERE EXISTS (SELECT 1 FROM "public"."invoices" AS "s2" WHERE "t0"."id" = "s2"."order_id")
params: []
