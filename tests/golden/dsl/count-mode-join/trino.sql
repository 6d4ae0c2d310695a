SELECT COUNT(*) FROM "pg_main"."public"."orders" AS "t0" INNER JOIN "pg_main"."public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" WHERE "t1"."is_active" = ?
params: [true]
