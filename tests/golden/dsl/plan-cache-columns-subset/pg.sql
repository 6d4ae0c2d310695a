SELECT "t0"."id" AS "t0__id", "t0"."name" AS "t0__name" FROM "public"."products" AS "t0" WHERE "t0"."id" = ANY($1::integer[])
params: [[7]]
