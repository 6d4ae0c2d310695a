-- true when at least one order's total differs from the sum of its items by more than a cent
-- (pending orders have no total yet and are skipped). One row, one column: sql_boolean.
SELECT count(*) > 0 AS mismatch
FROM orders AS o
WHERE o.total IS NOT NULL
  AND abs(o.total - (SELECT sum(i.quantity * i.unit_price)
                     FROM order_items AS i
                     WHERE i.order_id = o.id)) > 0.01
