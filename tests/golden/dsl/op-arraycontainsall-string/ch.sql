SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE hasAll(`t0`.`tags`, [{p1:String}, {p2:String}])
params: ["vip","new"]
