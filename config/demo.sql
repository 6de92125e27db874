-- Sample data for scripts/demo: a small shop. Deterministic (no random()), so every run makes the same
-- database. Loaded by the `backup` role into the database `demo`, so that role owns every object.
\set ON_ERROR_STOP on
BEGIN;

CREATE TABLE customers (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    email       text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    preferences jsonb       NOT NULL DEFAULT '{}'
);

CREATE TABLE products (
    id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku   text          NOT NULL UNIQUE,
    name  text          NOT NULL,
    price numeric(10,2) NOT NULL CHECK (price >= 0)
);

-- Invoice numbers come from a sequence of their own, apart from the identity columns.
CREATE SEQUENCE invoice_number_seq START 100000;

CREATE TABLE orders (
    id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    integer     NOT NULL REFERENCES customers (id),
    invoice_number bigint      NOT NULL UNIQUE DEFAULT nextval('invoice_number_seq'),
    ordered_at     timestamptz NOT NULL,
    status         text        NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    note           text
);
CREATE INDEX orders_customer_ordered_idx ON orders (customer_id, ordered_at);

CREATE TABLE order_items (
    order_id   integer       NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id integer       NOT NULL REFERENCES products (id),
    quantity   integer       NOT NULL CHECK (quantity > 0),
    unit_price numeric(10,2) NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

INSERT INTO customers (name, email, created_at, preferences)
SELECT 'Customer ' || g,
       'customer' || g || '@example.com',
       timestamptz '2024-01-01 00:00:00+00' + g * interval '7 hours',
       jsonb_build_object('newsletter', g % 3 = 0, 'language', (ARRAY['en', 'fr', 'de'])[1 + g % 3],
                          'tags', jsonb_build_array('tier-' || (g % 4), 'since-' || (2024 + g % 2)))
FROM generate_series(1, 1000) AS g;

INSERT INTO products (sku, name, price)
SELECT 'SKU-' || lpad(g::text, 5, '0'), 'Product ' || g || ' — “quoted” ünïcode', round((g * 7 % 500) + 0.99, 2)
FROM generate_series(1, 200) AS g;

INSERT INTO orders (customer_id, ordered_at, status, note)
SELECT 1 + (g * 37) % 1000,
       timestamptz '2024-06-01 08:00:00+00' + g * interval '53 minutes',
       (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN E'gift wrap, please\ttab and\nnewline' END
FROM generate_series(1, 5000) AS g;

INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT o.id, 1 + (o.id * 13 + i * 61) % 200, 1 + (o.id + i) % 5, p.price
FROM orders AS o
CROSS JOIN generate_series(0, 2) AS i
JOIN products AS p ON p.id = 1 + (o.id * 13 + i * 61) % 200;

CREATE VIEW order_totals AS
SELECT o.id AS order_id, c.email, o.ordered_at, o.status, sum(i.quantity * i.unit_price) AS total
FROM orders AS o
JOIN customers AS c ON c.id = o.customer_id
JOIN order_items AS i ON i.order_id = o.id
GROUP BY o.id, c.email, o.ordered_at, o.status;

COMMENT ON TABLE orders IS 'one row per order; invoice numbers from invoice_number_seq';

COMMIT;
ANALYZE customers, products, orders, order_items;
