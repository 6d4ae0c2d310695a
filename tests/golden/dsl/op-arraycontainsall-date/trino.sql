SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE cardinality(array_except(ARRAY[?, ?], "t0"."delivery_dates")) = 0
params: ["2024-01-15","2024-01-16"]
