SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`id` NOT IN (SELECT `s1`.`order_id` FROM `public`.`invoices` AS `s1` GROUP BY `s1`.`order_id` HAVING COUNT(*) > {p1:UInt64})
params: [2]
