SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE (json_array_length("t0"."tags") = 0 AND json_array_length("t0"."item_ids") > 0)
params: []
