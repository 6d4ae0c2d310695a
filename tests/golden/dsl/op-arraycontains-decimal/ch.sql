SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE has(`t0`.`prices`, {p1:Decimal(38, 10)})
params: [9.99]
