SELECT "t0"."id" AS "t0__id", "t1"."total_amount" AS "t1__total_amount" FROM "pg_main"."public"."users" AS "t0" INNER JOIN "pg_main"."public"."orders" AS "t1" ON "t0"."id" = "t1"."customer_id" AND "t1"."region_id" IN (?, ?) WHERE "t0"."region_id" IN (?, ?)
params: ["eu-west","eu-north","eu-west","eu-north"]
