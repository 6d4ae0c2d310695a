SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."flags" @> $1::bool[]
params: [[true]]
