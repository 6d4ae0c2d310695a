SELECT "t0"."id" AS "t0__id" FROM "pg_main"."public"."orders" AS "t0" WHERE lower("t0"."order_status") LIKE lower(?) ESCAPE '\'
params: ["%Pa\\_id%"]
