-- vendor: dbvmysql
-- stmt: insert_join_group | expect: lineage
INSERT INTO sales_daily (sale_date, store_id, revenue, orders)
SELECT DATE(o.created_at), o.store_id, SUM(oi.qty * oi.price), COUNT(DISTINCT o.id)
FROM orders o JOIN order_items oi ON oi.order_id = o.id
WHERE o.status <> 'cancelled'
GROUP BY DATE(o.created_at), o.store_id;
-- stmt: insert_on_duplicate_key | expect: lineage
INSERT INTO customer_stats (customer_id, total_spent)
SELECT customer_id, SUM(amount) FROM payments GROUP BY customer_id
ON DUPLICATE KEY UPDATE total_spent = VALUES(total_spent);
-- stmt: replace_into_select | expect: lineage
REPLACE INTO product_cache (id, name, price) SELECT id, name, price FROM products WHERE active = 1;
-- stmt: ctas | expect: lineage
CREATE TABLE archive_orders AS SELECT * FROM orders WHERE created_at < '2020-01-01';
-- stmt: create_table_select_without_as | expect: lineage
CREATE TABLE tmp_users SELECT id, email FROM users WHERE deleted_at IS NULL;
-- stmt: view_with_functions | expect: lineage
CREATE OR REPLACE VIEW v_user_orders AS
SELECT u.id, CONCAT(u.first_name, ' ', u.last_name) AS full_name,
       IFNULL(COUNT(o.id), 0) AS order_count, DATE_FORMAT(MAX(o.created_at), '%Y-%m') AS last_month
FROM users u LEFT JOIN orders o ON o.user_id = u.id
GROUP BY u.id, u.first_name, u.last_name;
-- stmt: alter_view_as | expect: lineage
ALTER VIEW v_active AS SELECT id, email FROM users WHERE active = 1;
-- stmt: update_join | expect: lineage
UPDATE products p JOIN suppliers s ON s.id = p.supplier_id
SET p.supplier_name = s.name, p.updated_at = NOW()
WHERE s.active = 1;
-- stmt: delete_join | expect: lineage
DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.is_test = 1;
-- stmt: insert_ignore | expect: lineage
INSERT IGNORE INTO tags (name) SELECT DISTINCT LOWER(tag) FROM post_tags;
-- stmt: set_variable_from_query | expect: lineage
SET @max_id = (SELECT MAX(id) FROM orders WHERE status = 'paid');
-- stmt: select_into_outfile | expect: lineage
SELECT id, email INTO OUTFILE '/tmp/users.csv' FROM users WHERE active = 1;
-- stmt: event_body | expect: lineage
CREATE EVENT ev_purge_sessions
ON SCHEDULE EVERY 1 HOUR
DO BEGIN
  INSERT INTO sessions_archive SELECT * FROM sessions WHERE last_seen < NOW() - INTERVAL 1 DAY;
  DELETE FROM sessions WHERE last_seen < NOW() - INTERVAL 1 DAY;
END;
-- stmt: trigger_insert_select | expect: lineage
CREATE TRIGGER trg_order_audit AFTER UPDATE ON orders FOR EACH ROW
INSERT INTO order_audit (order_id, old_status, new_status, changed_by)
SELECT NEW.id, OLD.status, NEW.status, u.name FROM users u WHERE u.id = NEW.updated_by;
-- stmt: trigger_block | expect: lineage
CREATE TRIGGER trg_stock AFTER INSERT ON order_items FOR EACH ROW
BEGIN
  IF NEW.qty > 0 THEN
    UPDATE stock s SET s.qty = s.qty - NEW.qty WHERE s.product_id = NEW.product_id;
    INSERT INTO stock_moves (product_id, qty) SELECT product_id, qty FROM order_items WHERE id = NEW.id;
  END IF;
END;
-- stmt: procedure_body | expect: lineage
CREATE PROCEDURE refresh_top_customers()
BEGIN
  DECLARE cutoff DATE DEFAULT CURDATE() - INTERVAL 90 DAY;
  DELETE FROM top_customers;
  INSERT INTO top_customers (customer_id, spent)
  SELECT customer_id, SUM(amount) FROM payments WHERE paid_at >= cutoff GROUP BY customer_id ORDER BY 2 DESC LIMIT 100;
END;
-- stmt: cte_window_insert | expect: lineage
INSERT INTO latest_prices (product_id, price)
WITH ranked AS (
  SELECT product_id, price, ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY valid_from DESC) AS rn
  FROM price_history
)
SELECT product_id, price FROM ranked WHERE rn = 1;
-- stmt: temporary_ctas | expect: lineage
CREATE TEMPORARY TABLE tmp_ids AS SELECT DISTINCT customer_id FROM orders WHERE total > 100;
-- stmt: insert_union | expect: lineage
INSERT INTO contacts (email, source)
SELECT email, 'user' FROM users UNION ALL SELECT email, 'lead' FROM leads;
-- stmt: update_scalar_subquery | expect: lineage
UPDATE customers c SET c.last_order = (SELECT MAX(o.created_at) FROM orders o WHERE o.customer_id = c.id);
-- stmt: insert_values_subquery | expect: lineage
INSERT INTO kpi (name, value) VALUES ('max_order', (SELECT MAX(total) FROM orders));
-- stmt: insert_star_order_by_ordinal | expect: lineage
INSERT INTO orders_copy SELECT * FROM orders ORDER BY 1;
