SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE ("t0"."quantity" > ? AND ("t0"."order_status" = ? OR ("t0"."order_status" = ? AND "t0"."total_amount" > ?)))
params: [0,"paid","new",100]
