SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE ("t0"."total_amount" > $1 AND "t0"."total_amount" <= $2)
params: [0.5,1000]
