SELECT COUNT(*) FROM "pg_main"."public"."users" AS "t0" WHERE "t0"."id" IN (?, ?)
params: [1,2]
