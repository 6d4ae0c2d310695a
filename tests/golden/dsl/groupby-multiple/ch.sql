SELECT `t0`.`order_status` AS `t0__order_status`, `t0`.`region_id` AS `t0__region_id`, MAX(`t0`.`quantity`) AS `maxQty` FROM `public`.`orders` AS `t0` GROUP BY `t0`.`order_status`, `t0`.`region_id`
params: []
