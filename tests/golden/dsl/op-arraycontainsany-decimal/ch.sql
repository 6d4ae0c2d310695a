SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE hasAny(`t0`.`prices`, [{p1:Decimal(38, 10)}, {p2:Decimal(38, 10)}])
params: [1.5,2]
