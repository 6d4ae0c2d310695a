SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."total_amount" = ?
params: [10.5]
