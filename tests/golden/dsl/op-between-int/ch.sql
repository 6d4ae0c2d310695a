SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`quantity` BETWEEN {p1:Int32} AND {p2:Int32}
params: [1,5]
