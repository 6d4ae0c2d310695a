SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE EXISTS (SELECT 1 FROM "public"."users" AS "s1" WHERE "t0"."customer_id" = "s1"."id" AND "s1"."is_active" = $1)
params: [true]
