SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE EXISTS (SELECT 1 FROM json_each("t0"."delivery_dates") AS "h" WHERE date("h"."value") = date(?))
params: ["2024-01-15"]
