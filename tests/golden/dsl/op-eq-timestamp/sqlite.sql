SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE julianday("t0"."created_at") = julianday(?)
params: ["2024-01-15T10:00:00Z"]
