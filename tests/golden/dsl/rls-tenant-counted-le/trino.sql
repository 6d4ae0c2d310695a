SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."users" AS "t0" WHERE ("t0"."tenant_id" = ? AND "t0"."id" NOT IN (SELECT "s1"."customer_id" FROM "pg_main"."public"."orders" AS "s1" WHERE "s1"."tenant_id" = ? AND "s1"."order_status" = ? GROUP BY "s1"."customer_id" HAVING COUNT(*) > ?))
params: ["6f1c2b3a-0000-4000-8000-0000000000aa","6f1c2b3a-0000-4000-8000-0000000000aa","paid",2]
