SELECT "t0"."id" AS "t0__id", "t1"."email" AS "t1__email" FROM "public"."orders" AS "t0" LEFT JOIN "public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" WHERE ("t0"."order_status" = $1 AND "t1"."is_active" = $2 AND "t0"."order_status" != $3)
params: ["paid",true,"void"]
