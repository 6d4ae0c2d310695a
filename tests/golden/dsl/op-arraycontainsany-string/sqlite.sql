SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE EXISTS (SELECT 1 FROM json_each("t0"."tags") AS "h", json_each(?) AS "n" WHERE "h"."value" = "n"."value")
params: [["vip","new"]]
