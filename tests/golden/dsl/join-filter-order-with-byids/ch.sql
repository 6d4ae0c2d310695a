SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` LEFT JOIN `public`.`products` AS `t1` ON `t0`.`product_id` = `t1`.`id` WHERE (`t0`.`id` IN tuple({p1:Int32}, {p2:Int32}) AND `t0`.`quantity` > {p3:Int32} AND `t1`.`active` = {p4:Bool})
params: [1,2,1,true]
