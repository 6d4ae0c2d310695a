SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."created_at" BETWEEN $1 AND $2
params: ["2024-01-01T00:00:00Z","2024-01-31T23:59:59Z"]
