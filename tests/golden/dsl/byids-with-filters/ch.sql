SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (`t0`.`id` IN tuple({p1:Int32}) AND `t0`.`order_status` = {p2:String})
params: [5,"paid"]
