-- Raw shop tables land in schema raw; staging cleans them up.
CREATE TABLE raw.orders (
    order_id     BIGINT,
    customer_id  BIGINT,
    order_date   DATE,
    status       VARCHAR(20),
    amount       NUMERIC(12, 2)
);

CREATE TABLE raw.customers (
    customer_id  BIGINT,
    name         VARCHAR(200),
    country      VARCHAR(2),
    created_at   TIMESTAMP
);

CREATE TABLE staging.orders AS
SELECT o.order_id,
       o.customer_id,
       CAST(o.order_date AS DATE) AS order_date,
       UPPER(o.status) AS status,
       o.amount
FROM raw.orders AS o
WHERE o.status <> 'test';
