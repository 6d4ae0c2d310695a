SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE (cardinality("t0"."tags") = 0 AND cardinality("t0"."item_ids") > 0)
params: []
