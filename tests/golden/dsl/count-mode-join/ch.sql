SELECT COUNT(*) FROM `public`.`orders` AS `t0` INNER JOIN `public`.`users` AS `t1` ON `t0`.`customer_id` = `t1`.`id` WHERE `t1`.`is_active` = {p1:Bool}
params: [true]
