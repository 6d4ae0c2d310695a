SELECT MIN("t0"."active") AS "allActive", MAX("t0"."active") AS "anyActive", MIN("t0"."sku") AS "firstSku", MAX("t0"."sku") AS "lastSku" FROM "public"."products" AS "t0" HAVING MIN("t0"."sku") IS NOT NULL
params: []
