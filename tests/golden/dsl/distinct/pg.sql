SELECT DISTINCT "t0"."order_status" AS "t0__order_status", "t0"."region_id" AS "t0__region_id" FROM "public"."orders" AS "t0" ORDER BY "t0"."order_status" ASC
params: []
