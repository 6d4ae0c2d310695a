SELECT `t0`.`id` AS `t0__id` FROM `public`.`users` AS `t0` WHERE (`t0`.`tenant_id` = {p1:UUID} AND `t0`.`id` IN (SELECT `s1`.`customer_id` FROM `public`.`orders` AS `s1` WHERE `s1`.`tenant_id` = {p2:UUID} GROUP BY `s1`.`customer_id` HAVING COUNT(*) >= {p3:UInt64}))
params: ["6f1c2b3a-0000-4000-8000-0000000000aa","6f1c2b3a-0000-4000-8000-0000000000aa",2]
