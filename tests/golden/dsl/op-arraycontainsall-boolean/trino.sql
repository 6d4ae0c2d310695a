SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE cardinality(array_except(ARRAY[?], "t0"."flags")) = 0
params: [true]
