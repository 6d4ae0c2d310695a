SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE ("t0"."tenant_id" = ? AND (SELECT COUNT(*) FROM (SELECT 1 FROM "public"."orders" AS "s1" WHERE "t0"."id" = "s1"."customer_id" AND "s1"."tenant_id" = ? LIMIT 2) AS "_c") >= ?)
params: ["6f1c2b3a-0000-4000-8000-0000000000aa","6f1c2b3a-0000-4000-8000-0000000000aa",2]
