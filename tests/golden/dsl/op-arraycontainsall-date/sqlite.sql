SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE NOT EXISTS (SELECT 1 FROM json_each(?) AS "n" WHERE NOT EXISTS (SELECT 1 FROM json_each("t0"."delivery_dates") AS "h" WHERE date("h"."value") = date("n"."value")))
params: [["2024-01-15","2024-01-16"]]
