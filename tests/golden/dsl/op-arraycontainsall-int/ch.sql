SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE hasAll(`t0`.`item_ids`, [{p1:Int32}, {p2:Int32}])
params: [1,2]
