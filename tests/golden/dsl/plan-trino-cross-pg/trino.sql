SELECT "t0"."id" AS "t0__id", "t1"."amount" AS "t1__amount" FROM "pg_main"."public"."orders" AS "t0" LEFT JOIN "pg_tenant"."public"."invoices" AS "t1" ON "t0"."id" = "t1"."order_id"
params: []
