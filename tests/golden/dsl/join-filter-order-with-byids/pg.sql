SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" LEFT JOIN "public"."products" AS "t1" ON "t0"."product_id" = "t1"."id" WHERE ("t0"."id" = ANY($1::integer[]) AND "t0"."quantity" > $2 AND "t1"."active" = $3)
params: [[1,2],1,true]
