SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE cardinality(array_except(ARRAY[?], "t0"."ref_ids")) = 0
params: ["6f1c2b3a-0000-4000-8000-000000000001"]
