SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (NOT NOT (`t0`.`shipped_on` BETWEEN {p1:Date} AND {p2:Date}) AND NOT NOT ilike(`t0`.`order_status`, {p3:String}) AND NOT `t0`.`internal_note` IS NOT NULL)
params: ["2024-01-01","2024-02-01","x%"]
