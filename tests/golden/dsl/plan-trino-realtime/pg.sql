SELECT "t0"."id" AS "t0__id", "t1"."total_amount" AS "t1__total_amount" FROM "default"."events" AS "t0" LEFT JOIN "public"."orders" AS "t1" ON "t0"."order_id" = "t1"."id"
params: []
