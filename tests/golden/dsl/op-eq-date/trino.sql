SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."shipped_on" = ?
params: ["2024-01-15"]
