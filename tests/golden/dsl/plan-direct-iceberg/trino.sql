SELECT "t0"."id" AS "t0__id", "t0"."total_amount" AS "t0__total_amount" FROM "iceberg_archive"."warehouse"."orders_archive" AS "t0" WHERE "t0"."order_status" = ?
params: ["paid"]
