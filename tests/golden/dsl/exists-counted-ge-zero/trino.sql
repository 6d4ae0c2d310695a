SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."id" IN (SELECT "s1"."order_id" FROM "pg_tenant"."public"."invoices" AS "s1" GROUP BY "s1"."order_id" HAVING COUNT(*) >= ?)
params: [0]
