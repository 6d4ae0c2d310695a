-- Seed of it_query on SQLite: the same rows as pg.sql. Arrays are JSON text, booleans are
-- declared BOOLEAN (0/1), timestamps ISO-8601 text (one with an offset on purpose).
CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
    region_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT, phone TEXT, birth_date DATE,
    created_at TIMESTAMP NOT NULL, score NUMERIC, is_active BOOLEAN NOT NULL,
    tags TEXT NOT NULL);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id), status TEXT NOT NULL,
    total NUMERIC, created_at TIMESTAMP NOT NULL, note TEXT);
INSERT INTO tenants VALUES ('t1', 'Acme'), ('t2', 'Globex');
INSERT INTO customers VALUES
    (1, 't1', 'eu', 'Alice Smith', 'alice@example.com', '+1234567890', '1990-05-17',
     '2024-01-15T10:00:00Z', 12.50, 1, '["vip","early"]'),
    (2, 't1', 'us', 'Bob Jones', 'bob@example.org', NULL, NULL,
     '2024-02-01T08:30:00.250Z', NULL, 0, '[]'),
    (3, 't2', 'eu', 'Zoë Martin', 'zoe@example.fr', '+33 1 23 45 67 89', '1985-12-31',
     '2024-03-10T23:59:59.999Z', 99.99, 1, '["vip"]'),
    (4, 't2', 'apac', '李雷', 'li.lei@example.cn', NULL, '2000-01-01',
     '2024-04-01T00:00:00Z', 0, 1, '[]'),
    (5, 't1', 'apac', 'Carla Rossi', NULL, '555-0100', NULL,
     '2024-05-05T12:00:00+02:00', 7.25, 0, '["early","a,b \"q\""]');
INSERT INTO orders VALUES
    (1, 't1', 1, 'paid', 100.00, '2024-06-01T10:00:00Z', NULL),
    (2, 't1', 1, 'shipped', 250.50, '2024-06-02T11:00:00Z', 'gift wrap'),
    (3, 't1', 2, 'paid', 40.00, '2024-06-03T12:00:00Z', NULL),
    (4, 't2', 3, 'paid', 300.00, '2024-06-04T13:00:00Z', NULL),
    (5, 't2', 3, 'cancelled', 10.00, '2024-06-05T14:00:00Z', NULL),
    (6, 't2', 3, 'paid', 20.00, '2024-06-06T15:00:00Z', NULL),
    (7, 't2', 1, 'paid', 999.00, '2024-06-07T16:00:00Z', 'a t2 order of a t1 customer'),
    (8, 't1', 5, 'pending', NULL, '2024-06-08T17:00:00Z', NULL);
-- A statement that outlives a short timeout (QUERY_TIMEOUT).
CREATE VIEW slow AS
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000)
    SELECT max(x) AS id FROM c;
