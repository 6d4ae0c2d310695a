SELECT `t0`.`id` AS `t0__id`, `t1`.`order_status` AS `t1__order_status` FROM `warehouse`.`orders_archive` AS `t0` LEFT JOIN `warehouse`.`orders_current` AS `t1` ON `t0`.`order_id` = `t1`.`id`
params: []
