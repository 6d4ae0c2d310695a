SELECT "t0"."id" AS "t0__id", "t0"."region_id" AS "t0__region_id" FROM "public"."orders" AS "t0" WHERE "t0"."region_id" IN (SELECT "value" FROM json_each(?))
params: [["eu-west","eu-north"]]
