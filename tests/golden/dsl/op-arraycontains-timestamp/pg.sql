SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE $1::timestamp = ANY("t0"."scan_times")
params: ["2024-01-15T10:00:00Z"]
