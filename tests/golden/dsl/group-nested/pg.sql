SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE ("t0"."quantity" > $1 AND ("t0"."order_status" = $2 OR ("t0"."order_status" = $3 AND "t0"."total_amount" > $4)))
params: [0,"paid","new",100]
