SELECT "t0"."i""d" AS "t0__i""d", "t0"."la`bel\" AS "t0__la`bel\" FROM "pg_main"."sch""ema"."ta`b\le" AS "t0" WHERE "t0"."la`bel\" LIKE ? ESCAPE '\' ORDER BY "t0"."la`bel\" ASC
params: ["%a'b%"]
