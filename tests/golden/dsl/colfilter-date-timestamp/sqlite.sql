SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE julianday("t0"."shipped_on") <= julianday("t0"."created_at")
params: []
