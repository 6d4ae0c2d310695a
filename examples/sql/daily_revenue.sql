-- Yesterday's revenue (UTC), cancelled orders excluded; 0 when there were no orders.
-- The change rule compares it with the value of the previous run (the day before).
SELECT coalesce(round(sum(total), 2), 0) AS total, count(*) AS orders
FROM orders
WHERE status <> 'cancelled'
  AND ordered_at >= strftime('%Y-%m-%dT00:00:00Z', 'now', '-1 day')
  AND ordered_at <  strftime('%Y-%m-%dT00:00:00Z', 'now')
