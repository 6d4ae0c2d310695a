SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`order_status` BETWEEN {p1:String} AND {p2:String}
params: ["a","m"]
