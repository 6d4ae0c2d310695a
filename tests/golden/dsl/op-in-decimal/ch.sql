SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`total_amount` IN tuple({p1:Decimal(38, 10)}, {p2:Decimal(38, 10)})
params: [9.99,10]
