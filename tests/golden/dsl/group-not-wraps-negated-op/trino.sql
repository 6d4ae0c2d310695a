SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE (NOT "t0"."shipped_on" NOT BETWEEN ? AND ? AND NOT NOT (lower("t0"."order_status") LIKE lower(?)) AND NOT "t0"."internal_note" IS NOT NULL)
params: ["2024-01-01","2024-02-01","x%"]
