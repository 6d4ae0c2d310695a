SELECT "t0"."id" AS "t0__id", "t0"."total_amount" AS "t0__total_amount", "t1"."email" AS "t1__email", "t1"."full_name" AS "t1__full_name" FROM "public"."orders" AS "t0" INNER JOIN "public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id"
params: []
