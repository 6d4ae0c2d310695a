SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE ilike(`t0`.`order_status`, {p1:String})
params: ["%Pa\\_id%"]
