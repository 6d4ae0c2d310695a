SELECT "t0"."id" AS "t0__id", "t1"."email" AS "t1__email" FROM "public"."orders" AS "t0" LEFT JOIN "public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" AND "t1"."tenant_id" = $1 WHERE "t0"."tenant_id" = $2
params: ["6f1c2b3a-0000-4000-8000-0000000000aa","6f1c2b3a-0000-4000-8000-0000000000aa"]
