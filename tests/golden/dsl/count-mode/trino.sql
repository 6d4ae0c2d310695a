SELECT COUNT(*) FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."order_status" = ?
params: ["paid"]
