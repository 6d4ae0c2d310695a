SELECT "t0"."id" AS "t0__id", "t1"."id" AS "t1__id" FROM "pg_main"."public"."users" AS "t0" LEFT JOIN "pg_main"."public"."orders" AS "t1" ON "t0"."id" = "t1"."customer_id" WHERE EXISTS (SELECT 1 FROM "pg_tenant"."public"."invoices" AS "s2" WHERE "t1"."id" = "s2"."order_id")
params: []
