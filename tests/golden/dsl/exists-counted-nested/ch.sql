SELECT `t0`.`id` AS `t0__id` FROM `public`.`users` AS `t0` WHERE EXISTS (SELECT 1 FROM `public`.`orders` AS `s1` WHERE `t0`.`id` = `s1`.`customer_id` AND `s1`.`id` IN (SELECT `s2`.`order_id` FROM `public`.`invoices` AS `s2` GROUP BY `s2`.`order_id` HAVING COUNT(*) > {p1:UInt64}))
params: [1]
