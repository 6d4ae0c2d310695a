SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."created_at" = ?
params: ["2024-01-15T10:00:00Z"]
