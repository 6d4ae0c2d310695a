SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."id" IN (SELECT "value" FROM json_each(?))
params: [[1,2]]
