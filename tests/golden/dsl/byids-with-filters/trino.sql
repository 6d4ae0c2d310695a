SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE ("t0"."id" IN (?) AND "t0"."order_status" = ?)
params: [5,"paid"]
