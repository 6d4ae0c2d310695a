SELECT "t0"."order_status" AS "t0__order_status", "t1"."email" AS "t1__email", COUNT(*) AS "cnt" FROM "public"."orders" AS "t0" LEFT JOIN "public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" GROUP BY "t0"."order_status", "t1"."email"
params: []
