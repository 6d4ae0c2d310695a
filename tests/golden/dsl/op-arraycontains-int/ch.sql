SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE has(`t0`.`item_ids`, {p1:Int32})
params: [7]
