SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE levenshtein("t0"."email", ?) <= ?
params: ["alice@example.com",2]
