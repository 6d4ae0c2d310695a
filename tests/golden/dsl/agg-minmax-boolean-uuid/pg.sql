SELECT BOOL_AND("t0"."active") AS "allActive", BOOL_OR("t0"."active") AS "anyActive", MIN("t0"."sku"::text)::uuid AS "firstSku", MAX("t0"."sku"::text)::uuid AS "lastSku" FROM "public"."products" AS "t0" HAVING MIN("t0"."sku"::text)::uuid IS NOT NULL
params: []
