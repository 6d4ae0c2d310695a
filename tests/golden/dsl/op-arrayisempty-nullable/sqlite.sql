SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE json_array_length("t0"."flags") = 0
params: []
