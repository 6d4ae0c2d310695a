SELECT COUNT(`t0`.`id`) AS `n`, SUM(`t0`.`quantity`) AS `q`, AVG(`t0`.`total_amount`) AS `avgTotal`, MIN(`t0`.`created_at`) AS `first`, MAX(`t0`.`discount`) AS `maxDiscount`, COUNT(`t0`.`tags`) AS `tagged` FROM `public`.`orders` AS `t0`
params: []
