SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE hasAll(`t0`.`delivery_dates`, [{p1:Date}, {p2:Date}])
params: ["2024-01-15","2024-01-16"]
