SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE $1::uuid = ANY("t0"."ref_ids")
params: ["6f1c2b3a-0000-4000-8000-000000000001"]
