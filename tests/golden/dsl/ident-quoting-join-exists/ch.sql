SELECT `t0`.`id` AS `t0__id`, `t1`.`la``bel\\` AS `t1__la``bel\\` FROM `public`.`orders` AS `t0` LEFT JOIN `sch"ema`.`ta``b\\le` AS `t1` ON `t0`.`id` = `t1`.`order id` WHERE `t0`.`id` IN (SELECT `s2`.`order id` FROM `sch"ema`.`ta``b\\le` AS `s2` GROUP BY `s2`.`order id` HAVING COUNT(*) >= {p1:UInt64})
params: [1]
