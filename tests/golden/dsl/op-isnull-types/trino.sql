SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE ("t0"."internal_note" IS NULL AND "t0"."discount" IS NULL AND "t0"."product_id" IS NULL AND "t0"."shipped_on" IS NULL AND "t0"."flags" IS NULL)
params: []
