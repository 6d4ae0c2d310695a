SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."created_at" BETWEEN CAST(? AS TIMESTAMP) AND CAST(? AS TIMESTAMP)
params: ["2024-01-01T00:00:00Z","2024-01-31T23:59:59Z"]
