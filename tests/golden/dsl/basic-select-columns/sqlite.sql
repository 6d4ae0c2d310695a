SELECT "t0"."id" AS "t0__id", "t0"."order_status" AS "t0__order_status", "t0"."total_amount" AS "t0__total_amount" FROM "public"."orders" AS "t0"
params: []
