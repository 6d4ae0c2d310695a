SELECT "t0"."id" AS "t0__id" FROM "default"."orders_replica" AS "t0" WHERE EXISTS (SELECT 1 FROM "default"."events" AS "s1" WHERE "t0"."id" = "s1"."order_id" AND "s1"."event_type" = ?)
params: ["refund"]
