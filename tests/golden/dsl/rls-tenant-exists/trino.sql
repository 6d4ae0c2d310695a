SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."users" AS "t0" WHERE ("t0"."tenant_id" = ? AND EXISTS (SELECT 1 FROM "pg_main"."public"."orders" AS "s1" WHERE "t0"."id" = "s1"."customer_id" AND "s1"."tenant_id" = ? AND "s1"."total_amount" > ?))
params: ["6f1c2b3a-0000-4000-8000-0000000000aa","6f1c2b3a-0000-4000-8000-0000000000aa",100]
