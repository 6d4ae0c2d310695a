SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (`t0`.`total_amount` > {p1:Decimal(38, 10)} AND `t0`.`total_amount` <= {p2:Decimal(38, 10)})
params: [0.5,1000]
