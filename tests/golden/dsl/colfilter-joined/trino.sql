SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" LEFT JOIN "pg_main"."public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" WHERE "t0"."created_at" > "t1"."created_at"
params: []
