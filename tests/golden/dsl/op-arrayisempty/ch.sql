SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (empty(`t0`.`tags`) AND notEmpty(`t0`.`item_ids`))
params: []
