SELECT COUNT(*) FROM `public`.`users` AS `t0` WHERE `t0`.`id` IN tuple({p1:Int32}, {p2:Int32})
params: [1,2]
