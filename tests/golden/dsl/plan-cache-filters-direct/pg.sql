SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE ("t0"."id" = ANY($1::integer[]) AND "t0"."is_active" = $2)
params: [[1],true]
