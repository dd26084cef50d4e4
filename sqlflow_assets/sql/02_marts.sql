-- Marts: revenue per customer and country, built from staging.
CREATE VIEW marts.customer_revenue AS
WITH paid AS (
    SELECT customer_id, amount
    FROM staging.orders
    WHERE status = 'PAID'
)
SELECT c.customer_id,
       c.name AS customer_name,
       c.country,
       SUM(p.amount) AS revenue,
       COUNT(*) AS order_count
FROM raw.customers AS c
JOIN paid AS p ON p.customer_id = c.customer_id
GROUP BY c.customer_id, c.name, c.country;

INSERT INTO marts.country_revenue (country, revenue, customers)
SELECT country, SUM(revenue), COUNT(DISTINCT customer_id)
FROM marts.customer_revenue
GROUP BY country
HAVING SUM(revenue) > 0;
