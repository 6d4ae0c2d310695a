SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE contains("t0"."scan_times", ?)
params: ["2024-01-15T10:00:00Z"]
