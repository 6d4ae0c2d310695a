SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."prices" @> $1::numeric[]
params: [[1.5,2]]
