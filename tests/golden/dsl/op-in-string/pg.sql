SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."order_status" = ANY($1::text[])
params: [["paid","shipped"]]
