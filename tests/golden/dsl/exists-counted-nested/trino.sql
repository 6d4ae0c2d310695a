SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."users" AS "t0" WHERE EXISTS (SELECT 1 FROM "pg_main"."public"."orders" AS "s1" WHERE "t0"."id" = "s1"."customer_id" AND "s1"."id" IN (SELECT "s2"."order_id" FROM "pg_tenant"."public"."invoices" AS "s2" GROUP BY "s2"."order_id" HAVING COUNT(*) > ?))
params: [1]
