SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE ("t0"."order_status" != ? AND "t0"."quantity" != ? AND "t0"."total_amount" != ? AND "t0"."is_paid" != ? AND "t0"."tenant_id" != ? AND "t0"."shipped_on" != ? AND "t0"."created_at" != ?)
params: ["void",0,1.25,false,"6f1c2b3a-0000-4000-8000-000000000001","2024-01-15","2024-01-15T10:00:00.000Z"]
