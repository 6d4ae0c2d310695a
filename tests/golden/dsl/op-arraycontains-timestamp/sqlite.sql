SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE EXISTS (SELECT 1 FROM json_each("t0"."scan_times") AS "h" WHERE julianday("h"."value") = julianday(?))
params: ["2024-01-15T10:00:00Z"]
