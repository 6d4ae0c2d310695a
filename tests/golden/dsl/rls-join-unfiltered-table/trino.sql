SELECT "t0"."id" AS "t0__id", "t1"."name" AS "t1__name" FROM "pg_main"."public"."orders" AS "t0" LEFT JOIN "pg_main"."public"."products" AS "t1" ON "t0"."product_id" = "t1"."id" WHERE "t0"."region_id" IN (?)
params: ["eu-west"]
