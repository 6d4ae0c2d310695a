SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE julianday("t0"."created_at") BETWEEN julianday(?) AND julianday(?)
params: ["2024-01-01T00:00:00Z","2024-01-31T23:59:59Z"]
