SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE has(`t0`.`tags`, {p1:String})
params: ["vip"]
