SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE $1::date = ANY("t0"."delivery_dates")
params: ["2024-01-15"]
