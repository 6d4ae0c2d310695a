SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`total_amount` NOT IN tuple({p1:Decimal(38, 10)}, {p2:Decimal(38, 10)})
params: [0,0.5]
