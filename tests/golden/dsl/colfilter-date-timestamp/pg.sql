SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE "t0"."shipped_on" <= "t0"."created_at"
params: []
