SELECT `t0`.`id` AS `t0__id`, `t1`.`id` AS `t1__id`, `t1`.`total_amount` AS `t1__total_amount` FROM `public`.`users` AS `t0` LEFT JOIN `public`.`orders` AS `t1` ON `t0`.`id` = `t1`.`customer_id`
params: []
