SELECT "t0"."order_status" AS "t0__order_status", COUNT(*) AS "cnt", SUM("t0"."total_amount") AS "revenue" FROM "public"."orders" AS "t0" GROUP BY "t0"."order_status" HAVING (SUM("t0"."total_amount") IS NULL AND SUM("t0"."total_amount") IS NOT NULL)
params: []
