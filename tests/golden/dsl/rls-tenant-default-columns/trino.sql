SELECT "t0"."id" AS "t0__id", "t0"."tenant_id" AS "t0__tenant_id", "t0"."customer_id" AS "t0__customer_id", "t0"."total_amount" AS "t0__total_amount", "t0"."order_status" AS "t0__order_status", "t0"."created_at" AS "t0__created_at" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."tenant_id" = ?
params: ["6f1c2b3a-0000-4000-8000-0000000000aa"]
