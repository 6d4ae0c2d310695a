SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE $1::integer = ANY("t0"."item_ids")
params: [7]
