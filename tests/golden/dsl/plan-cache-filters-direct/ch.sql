SELECT `t0`.`id` AS `t0__id` FROM `public`.`users` AS `t0` WHERE (`t0`.`id` IN tuple({p1:Int32}) AND `t0`.`is_active` = {p2:Bool})
params: [1,true]
