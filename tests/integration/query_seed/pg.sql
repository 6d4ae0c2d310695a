-- Seed of it_query on PostgreSQL: a small multi-tenant shop. {schema} is replaced by the
-- test's own schema (it_query_<pid>). Keep the rows in step with sqlite.sql.
CREATE SCHEMA {schema};
CREATE TABLE {schema}.tenants (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE {schema}.customers (
    id integer PRIMARY KEY, tenant_id text NOT NULL REFERENCES {schema}.tenants(id),
    region_id text NOT NULL, name text NOT NULL, email text, phone text, birth_date date,
    created_at timestamptz NOT NULL, score numeric(10, 2), is_active boolean NOT NULL,
    tags text[] NOT NULL);
CREATE TABLE {schema}.orders (
    id integer PRIMARY KEY, tenant_id text NOT NULL REFERENCES {schema}.tenants(id),
    customer_id integer NOT NULL REFERENCES {schema}.customers(id), status text NOT NULL,
    total numeric(12, 2), created_at timestamptz NOT NULL, note text);
INSERT INTO {schema}.tenants VALUES ('t1', 'Acme'), ('t2', 'Globex');
INSERT INTO {schema}.customers VALUES
    (1, 't1', 'eu', 'Alice Smith', 'alice@example.com', '+1234567890', '1990-05-17',
     '2024-01-15 10:00:00+00', 12.50, true, '{vip,early}'),
    (2, 't1', 'us', 'Bob Jones', 'bob@example.org', NULL, NULL,
     '2024-02-01 08:30:00.25+00', NULL, false, '{}'),
    (3, 't2', 'eu', 'Zoë Martin', 'zoe@example.fr', '+33 1 23 45 67 89', '1985-12-31',
     '2024-03-10 23:59:59.999+00', 99.99, true, '{vip}'),
    (4, 't2', 'apac', '李雷', 'li.lei@example.cn', NULL, '2000-01-01',
     '2024-04-01 00:00:00+00', 0, true, '{}'),
    (5, 't1', 'apac', 'Carla Rossi', NULL, '555-0100', NULL,
     '2024-05-05 12:00:00+02', 7.25, false, '{"early","a,b \"q\""}');
INSERT INTO {schema}.orders VALUES
    (1, 't1', 1, 'paid', 100.00, '2024-06-01 10:00:00+00', NULL),
    (2, 't1', 1, 'shipped', 250.50, '2024-06-02 11:00:00+00', 'gift wrap'),
    (3, 't1', 2, 'paid', 40.00, '2024-06-03 12:00:00+00', NULL),
    (4, 't2', 3, 'paid', 300.00, '2024-06-04 13:00:00+00', NULL),
    (5, 't2', 3, 'cancelled', 10.00, '2024-06-05 14:00:00+00', NULL),
    (6, 't2', 3, 'paid', 20.00, '2024-06-06 15:00:00+00', NULL),
    (7, 't2', 1, 'paid', 999.00, '2024-06-07 16:00:00+00', 'a t2 order of a t1 customer'),
    (8, 't1', 5, 'pending', NULL, '2024-06-08 17:00:00+00', NULL);
-- A statement that outlives a short timeout (QUERY_TIMEOUT).
CREATE VIEW {schema}.slow AS SELECT 1 AS id FROM pg_sleep(5);
