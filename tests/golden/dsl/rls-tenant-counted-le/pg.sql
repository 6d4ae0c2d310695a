SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE ("t0"."tenant_id" = $1 AND (SELECT COUNT(*) FROM "public"."orders" AS "s1" WHERE "t0"."id" = "s1"."customer_id" AND "s1"."tenant_id" = $2 AND "s1"."order_status" = $3) <= $4)
params: ["6f1c2b3a-0000-4000-8000-0000000000aa","6f1c2b3a-0000-4000-8000-0000000000aa","paid",2]
