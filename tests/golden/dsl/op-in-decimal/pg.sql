SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."total_amount" = ANY($1::numeric[])
params: [[9.99,10]]
