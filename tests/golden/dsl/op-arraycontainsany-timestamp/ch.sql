SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE hasAny(`t0`.`scan_times`, [{p1:DateTime}])
params: ["2024-01-15T10:00:00Z"]
