SELECT `t0`.`id` AS `t0__id` FROM `public`.`users` AS `t0` WHERE editDistance(`t0`.`email`, {p1:String}) <= {p2:UInt32}
params: ["alice@example.com",2]
