SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE $1::numeric = ANY("t0"."prices")
params: [9.99]
