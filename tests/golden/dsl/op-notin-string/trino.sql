SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."order_status" NOT IN (?, ?)
params: ["void","draft"]
