SELECT "t0"."id" AS "t0__id", "t0"."sku" AS "t0__sku" FROM "public"."products" AS "t0" WHERE "t0"."id" = ANY($1::integer[])
params: [[7]]
