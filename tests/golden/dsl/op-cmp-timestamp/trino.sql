SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE ("t0"."created_at" >= ? AND "t0"."created_at" < ?)
params: ["2024-01-01T00:00:00Z","2024-02-01 00:00:00"]
