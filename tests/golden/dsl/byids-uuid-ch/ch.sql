SELECT `t0`.`id` AS `t0__id`, `t0`.`event_type` AS `t0__event_type` FROM `default`.`events` AS `t0` WHERE `t0`.`id` IN tuple({p1:UUID}, {p2:UUID})
params: ["6f1c2b3a-0000-4000-8000-000000000001","6f1c2b3a-0000-4000-8000-000000000002"]
