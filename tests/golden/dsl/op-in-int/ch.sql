SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`quantity` IN tuple({p1:Int32}, {p2:Int32}, {p3:Int32})
params: [1,2,3]
