SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE NOT "t0"."order_status" = $1
params: ["void"]
