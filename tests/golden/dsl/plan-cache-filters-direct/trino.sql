SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."users" AS "t0" WHERE ("t0"."id" IN (?) AND "t0"."is_active" = ?)
params: [1,true]
