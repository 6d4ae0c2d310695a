SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE NOT EXISTS (SELECT 1 FROM json_each(?) AS "n" WHERE NOT EXISTS (SELECT 1 FROM json_each("t0"."flags") AS "h" WHERE "h"."value" = "n"."value"))
params: [[true]]
