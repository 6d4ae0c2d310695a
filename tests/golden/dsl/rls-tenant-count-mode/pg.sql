SELECT COUNT(*) FROM "public"."orders" AS "t0" WHERE "t0"."tenant_id" = $1
params: ["6f1c2b3a-0000-4000-8000-0000000000aa"]
