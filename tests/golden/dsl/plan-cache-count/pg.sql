SELECT COUNT(*) FROM "public"."users" AS "t0" WHERE "t0"."id" = ANY($1::integer[])
params: [[1,2]]
