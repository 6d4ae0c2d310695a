SELECT `t0`.`la``bel\\` AS `t0__la``bel\\`, COUNT(*) AS `n` FROM `sch"ema`.`ta``b\\le` AS `t0` GROUP BY `t0`.`la``bel\\` ORDER BY `n` DESC
params: []
