SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE has(`t0`.`delivery_dates`, {p1:Date})
params: ["2024-01-15"]
