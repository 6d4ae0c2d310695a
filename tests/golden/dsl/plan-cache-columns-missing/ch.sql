SELECT `t0`.`id` AS `t0__id`, `t0`.`name` AS `t0__name`, `t0`.`category` AS `t0__category`, `t0`.`price` AS `t0__price`, `t0`.`sku` AS `t0__sku`, `t0`.`active` AS `t0__active`, `t0`.`launched_on` AS `t0__launched_on`, `t0`.`updated_at` AS `t0__updated_at` FROM `public`.`products` AS `t0` WHERE `t0`.`id` IN tuple({p1:Int32})
params: [7]
