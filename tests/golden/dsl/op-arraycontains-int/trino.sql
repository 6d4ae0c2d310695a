SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE contains("t0"."item_ids", ?)
params: [7]
