SELECT "t0"."id" AS "t0__id", "t1"."email" AS "t1__email" FROM "public"."orders" AS "t0" LEFT JOIN "public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" ORDER BY "t1"."full_name" ASC
params: []
