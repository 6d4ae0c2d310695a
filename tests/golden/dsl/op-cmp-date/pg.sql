SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE ("t0"."shipped_on" > $1 AND "t0"."shipped_on" <= $2)
params: ["2024-01-01","2024-12-31"]
