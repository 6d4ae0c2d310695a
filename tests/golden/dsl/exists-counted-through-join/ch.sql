SELECT `t0`.`id` AS `t0__id` FROM `public`.`products` AS `t0` LEFT JOIN `public`.`orders` AS `t1` ON `t0`.`id` = `t1`.`product_id` WHERE `t1`.`id` IN (SELECT `s2`.`order_id` FROM `public`.`invoices` AS `s2` GROUP BY `s2`.`order_id` HAVING COUNT(*) > {p1:UInt64})
params: [0]
