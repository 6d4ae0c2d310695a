SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."delivery_dates" @> $1::date[]
params: [["2024-01-15","2024-01-16"]]
