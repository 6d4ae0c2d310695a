SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE (SELECT COUNT(*) FROM "public"."products" AS "s1" WHERE "t0"."product_id" = "s1"."id") < ?
params: [1]
