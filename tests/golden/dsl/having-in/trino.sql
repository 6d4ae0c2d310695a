SELECT "t0"."order_status" AS "t0__order_status", COUNT(*) AS "cnt", SUM("t0"."total_amount") AS "revenue" FROM "pg_main"."public"."orders" AS "t0" GROUP BY "t0"."order_status" HAVING COUNT(*) IN (?, ?, ?)
params: [1,2,3]
