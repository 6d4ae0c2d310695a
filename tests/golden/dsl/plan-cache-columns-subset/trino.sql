SELECT "t0"."id" AS "t0__id", "t0"."name" AS "t0__name" FROM "pg_main"."public"."products" AS "t0" WHERE "t0"."id" IN (?)
params: [7]
