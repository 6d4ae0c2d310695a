SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE ("t0"."id" IN (SELECT "value" FROM json_each(?)) AND "t0"."is_active" = ?)
params: [[1],true]
