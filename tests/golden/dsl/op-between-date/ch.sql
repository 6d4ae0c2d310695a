SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE `t0`.`shipped_on` BETWEEN {p1:Date} AND {p2:Date}
params: ["2024-01-01","2024-01-31"]
