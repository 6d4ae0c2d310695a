SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."users" AS "t0" WHERE levenshtein_distance("t0"."email", ?) <= ?
params: ["alice@example.com",2]
