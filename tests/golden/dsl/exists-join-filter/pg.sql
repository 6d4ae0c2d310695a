SELECT "t0"."id" AS "t0__id", "t1"."id" AS "t1__id" FROM "public"."users" AS "t0" LEFT JOIN "public"."orders" AS "t1" ON "t0"."id" = "t1"."customer_id" WHERE EXISTS (SELECT 1 FROM "public"."invoices" AS "s2" WHERE "t1"."id" = "s2"."order_id")
params: []
