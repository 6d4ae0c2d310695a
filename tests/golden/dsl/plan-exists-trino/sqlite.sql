SELECT "t0"."id" AS "t0__id" FROM "public"."products" AS "t0" WHERE EXISTS (SELECT 1 FROM "default"."events" AS "s1" WHERE "t0"."id" = "s1"."product_id")
params: []
