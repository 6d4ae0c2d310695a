SELECT "t0"."id" AS "t0__id", "t0"."occurred_at" AS "t0__occurred_at" FROM "ch_analytics"."default"."events" AS "t0" WHERE "t0"."event_type" = ?
params: ["click"]
