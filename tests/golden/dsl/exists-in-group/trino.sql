SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE ("t0"."order_status" = ? OR NOT EXISTS (SELECT 1 FROM "pg_tenant"."public"."invoices" AS "s1" WHERE "t0"."id" = "s1"."order_id"))
params: ["vip"]
