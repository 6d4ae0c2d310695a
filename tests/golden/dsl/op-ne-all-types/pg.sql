SELECT "t0"."id" AS "t0__id" FROM "public"."orders" AS "t0" WHERE ("t0"."order_status" != $1 AND "t0"."quantity" != $2 AND "t0"."total_amount" != $3 AND "t0"."is_paid" != $4 AND "t0"."tenant_id" != $5 AND "t0"."shipped_on" != $6 AND "t0"."created_at" != $7)
params: ["void",0,1.25,false,"6f1c2b3a-0000-4000-8000-000000000001","2024-01-15","2024-01-15T10:00:00.000Z"]
