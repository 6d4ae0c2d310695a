SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."order_status" IN (SELECT "value" FROM json_each(?))
params: [["paid","shipped"]]
