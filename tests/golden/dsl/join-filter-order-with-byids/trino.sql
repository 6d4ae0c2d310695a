SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" LEFT JOIN "pg_main"."public"."products" AS "t1" ON "t0"."product_id" = "t1"."id" WHERE ("t0"."id" IN (?, ?) AND "t0"."quantity" > ? AND "t1"."active" = ?)
params: [1,2,1,true]
