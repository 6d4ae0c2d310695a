SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`id` IN (SELECT `s1`.`order_id` FROM `public`.`invoices` AS `s1` WHERE `s1`.`paid` = {p1:Bool} GROUP BY `s1`.`order_id` HAVING COUNT(*) >= {p2:UInt64})
params: [true,3]
