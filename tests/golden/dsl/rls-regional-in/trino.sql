SELECT "t0"."id" AS "t0__id", "t0"."region_id" AS "t0__region_id" FROM "pg_main"."public"."orders" AS "t0" WHERE "t0"."region_id" IN (?, ?)
params: ["eu-west","eu-north"]
