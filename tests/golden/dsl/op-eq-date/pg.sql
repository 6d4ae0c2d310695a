SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."shipped_on" = $1
params: ["2024-01-15"]
