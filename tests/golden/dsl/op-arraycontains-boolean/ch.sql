SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE has(`t0`.`flags`, {p1:Bool})
params: [true]
