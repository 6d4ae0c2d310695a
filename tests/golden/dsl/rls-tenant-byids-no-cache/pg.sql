SELECT "t0"."id" AS "t0__id", "t0"."email" AS "t0__email" FROM "public"."users" AS "t0" WHERE ("t0"."tenant_id" = $1 AND "t0"."id" = ANY($2::integer[]))
params: ["6f1c2b3a-0000-4000-8000-0000000000aa",[1]]
