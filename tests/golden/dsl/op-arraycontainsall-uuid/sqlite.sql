SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE NOT EXISTS (SELECT 1 FROM json_each(?) AS "n" WHERE NOT EXISTS (SELECT 1 FROM json_each("t0"."ref_ids") AS "h" WHERE "h"."value" = "n"."value"))
params: [["6f1c2b3a-0000-4000-8000-000000000001"]]
