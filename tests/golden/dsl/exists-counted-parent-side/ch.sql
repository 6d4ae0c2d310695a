SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`product_id` NOT IN (SELECT `s1`.`id` FROM `public`.`products` AS `s1` GROUP BY `s1`.`id` HAVING COUNT(*) >= {p1:UInt64})
params: [1]
