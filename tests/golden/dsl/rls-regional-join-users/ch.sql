SELECT `t0`.`id` AS `t0__id`, `t1`.`total_amount` AS `t1__total_amount` FROM `public`.`users` AS `t0` INNER JOIN `public`.`orders` AS `t1` ON `t0`.`id` = `t1`.`customer_id` AND `t1`.`region_id` IN tuple({p1:String}, {p2:String}) WHERE `t0`.`region_id` IN tuple({p3:String}, {p4:String})
params: ["eu-west","eu-north","eu-west","eu-north"]
