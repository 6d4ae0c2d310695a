SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (`t0`.`order_status` = {p1:String} OR `t0`.`quantity` > {p2:Int32})
params: ["paid",5]
