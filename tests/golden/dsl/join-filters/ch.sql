SELECT `t0`.`id` AS `t0__id`, `t1`.`email` AS `t1__email` FROM `public`.`orders` AS `t0` LEFT JOIN `public`.`users` AS `t1` ON `t0`.`customer_id` = `t1`.`id` WHERE (`t0`.`order_status` = {p1:String} AND `t1`.`is_active` = {p2:Bool} AND `t0`.`order_status` != {p3:String})
params: ["paid",true,"void"]
