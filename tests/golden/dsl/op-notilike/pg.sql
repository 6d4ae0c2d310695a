SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."order_status" NOT ILIKE $1
params: ["%ED"]
