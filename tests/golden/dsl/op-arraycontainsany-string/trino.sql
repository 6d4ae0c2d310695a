SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE arrays_overlap("t0"."tags", ARRAY[?, ?])
params: ["vip","new"]
