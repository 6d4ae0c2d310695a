SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."shipped_on" NOT BETWEEN ? AND ?
params: ["2024-01-01","2024-01-31"]
