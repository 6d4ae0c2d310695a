SELECT "t0"."id" AS "t0__id", "t1"."la`bel\" AS "t1__la`bel\" FROM "public"."orders" AS "t0" LEFT JOIN "sch""ema"."ta`b\le" AS "t1" ON "t0"."id" = "t1"."order id" WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM "sch""ema"."ta`b\le" AS "s2" WHERE "t0"."id" = "s2"."order id" LIMIT 1) AS "_c") >= $1
params: [1]
