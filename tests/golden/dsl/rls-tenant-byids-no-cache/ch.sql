SELECT `t0`.`id` AS `t0__id`, `t0`.`email` AS `t0__email` FROM `public`.`users` AS `t0` WHERE (`t0`.`tenant_id` = {p1:UUID} AND `t0`.`id` IN tuple({p2:Int32}))
params: ["6f1c2b3a-0000-4000-8000-0000000000aa",1]
