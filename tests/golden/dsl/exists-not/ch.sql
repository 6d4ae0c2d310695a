SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE NOT EXISTS (SELECT 1 FROM `public`.`invoices` AS `s1` WHERE `t0`.`id` = `s1`.`order_id`)
params: []
