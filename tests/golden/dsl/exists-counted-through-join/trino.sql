SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."products" AS "t0" LEFT JOIN "pg_main"."public"."orders" AS "t1" ON "t0"."id" = "t1"."product_id" WHERE "t1"."id" IN (SELECT "s2"."order_id" FROM "pg_tenant"."public"."invoices" AS "s2" GROUP BY "s2"."order_id" HAVING COUNT(*) > ?)
params: [0]
