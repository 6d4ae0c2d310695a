SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE $1::bool = ANY("t0"."flags")
params: [true]
