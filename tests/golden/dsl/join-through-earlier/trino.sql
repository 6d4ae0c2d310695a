SELECT "t0"."name" AS "t0__name", "t1"."id" AS "t1__id", "t2"."email" AS "t2__email" FROM "pg_main"."public"."products" AS "t0" LEFT JOIN "pg_main"."public"."orders" AS "t1" ON "t0"."id" = "t1"."product_id" LEFT JOIN "pg_main"."public"."users" AS "t2" ON "t1"."customer_id" = "t2"."id"
params: []
