SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."item_ids" @> $1::integer[]
params: [[1,2]]
