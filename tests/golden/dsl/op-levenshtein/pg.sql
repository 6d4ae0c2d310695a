SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE levenshtein("t0"."email", $1) <= $2
params: ["alice@example.com",2]
