SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (`t0`.`quantity` > {p1:Int32} AND `t0`.`quantity` < {p2:Int32} AND `t0`.`quantity` >= {p3:Int32} AND `t0`.`quantity` <= {p4:Int32})
params: [1,10,2,9]
