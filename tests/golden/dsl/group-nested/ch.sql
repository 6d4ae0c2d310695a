SELECT `t0`.`id` AS `t0__id` FROM `public`.`orders` AS `t0` WHERE (`t0`.`quantity` > {p1:Int32} AND (`t0`.`order_status` = {p2:String} OR (`t0`.`order_status` = {p3:String} AND `t0`.`total_amount` > {p4:Decimal(38, 10)})))
params: [0,"paid","new",100]
