SELECT "t0"."id" AS "t0__id", "t1"."name" AS "t1__name" FROM "public"."orders" AS "t0" LEFT JOIN "public"."products" AS "t1" ON "t0"."product_id" = "t1"."id"
params: []
