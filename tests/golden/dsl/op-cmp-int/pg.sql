SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE ("t0"."quantity" > $1 AND "t0"."quantity" < $2 AND "t0"."quantity" >= $3 AND "t0"."quantity" <= $4)
params: [1,10,2,9]
