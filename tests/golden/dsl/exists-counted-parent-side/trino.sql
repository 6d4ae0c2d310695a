SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."product_id" NOT IN (SELECT "s1"."id" FROM "pg_main"."public"."products" AS "s1" GROUP BY "s1"."id" HAVING COUNT(*) >= ?)
params: [1]
