SELECT `t0`.`id` AS `t0__id`, `t1`.`amount` AS `t1__amount` FROM `public`.`orders` AS `t0` LEFT JOIN `public`.`invoices` AS `t1` ON `t0`.`id` = `t1`.`order_id`
params: []
