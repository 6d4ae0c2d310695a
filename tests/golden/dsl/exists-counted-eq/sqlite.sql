SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE (SELECT COUNT(*) FROM "public"."invoices" AS "s1" WHERE "t0"."id" = "s1"."order_id") = ?
params: [2]
