SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."quantity" NOT BETWEEN $1 AND $2
params: [1,5]
