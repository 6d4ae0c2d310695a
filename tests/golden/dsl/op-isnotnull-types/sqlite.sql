SELECT "t0"."id" AS "t0__id" FROM "public"."users" AS "t0" WHERE ("t0"."phone" IS NOT NULL AND "t0"."birth_date" IS NOT NULL AND "t0"."score" IS NOT NULL AND "t0"."external_id" IS NOT NULL AND "t0"."tags" IS NOT NULL)
params: []
