SELECT COUNT(*) FROM "public"."users" AS "t0" WHERE "t0"."id" IN (SELECT "value" FROM json_each(?))
params: [[1,2]]
