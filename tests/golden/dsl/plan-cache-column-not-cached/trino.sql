SELECT "t0"."id" AS "t0__id", "t0"."sku" AS "t0__sku" FROM "pg_main"."public"."products" AS "t0" WHERE "t0"."id" IN (?)
params: [7]
