SELECT `t0`.`id` AS `t0__id`, `t0`.`order_status` AS `t0__order_status` FROM `public`.`orders` AS `t0` WHERE `t0`.`id` IN tuple({p1:Int32}, {p2:Int32}, {p3:Int32})
params: [1,2,3]
