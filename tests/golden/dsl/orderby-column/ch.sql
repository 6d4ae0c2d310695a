SELECT `t0`.`id` AS `t0__id`, `t0`.`created_at` AS `t0__created_at` FROM `public`.`orders` AS `t0` ORDER BY `t0`.`created_at` DESC, `t0`.`id` ASC
params: []
