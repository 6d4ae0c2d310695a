SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE ("t0"."id" = ANY($1::integer[]) AND "t0"."order_status" = $2)
params: [[5],"paid"]
