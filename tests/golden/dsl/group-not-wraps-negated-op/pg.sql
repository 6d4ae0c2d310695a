SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE (NOT "t0"."shipped_on" NOT BETWEEN $1 AND $2 AND NOT "t0"."order_status" NOT ILIKE $3 AND NOT "t0"."internal_note" IS NOT NULL)
params: ["2024-01-01","2024-02-01","x%"]
