SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (`t0`.`tenant_id` = {p1:UUID} AND `t0`.`region_id` IN tuple({p2:String}) AND `t0`.`order_status` != {p3:String})
params: ["6f1c2b3a-0000-4000-8000-0000000000aa","eu-west","void"]
