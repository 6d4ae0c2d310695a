SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" LEFT JOIN "public"."users" AS "t1" ON "t0"."customer_id" = "t1"."id" WHERE julianday("t0"."created_at") > julianday("t1"."created_at")
params: []
