SELECT `t0`.`order_status` AS `t0__order_status`, COUNT(*) AS `cnt`, SUM(`t0`.`total_amount`) AS `revenue` FROM `public`.`orders` AS `t0` GROUP BY `t0`.`order_status` HAVING (`cnt` >= {p1:Int32} AND `revenue` < {p2:Float64})
params: [2,1000.5]
