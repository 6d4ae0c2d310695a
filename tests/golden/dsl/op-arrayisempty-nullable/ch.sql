SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE empty(`t0`.`flags`)
params: []
