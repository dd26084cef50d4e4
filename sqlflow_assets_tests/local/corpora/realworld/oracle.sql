-- vendor: dbvoracle
-- stmt: insert_append_hint | expect: lineage
INSERT /*+ APPEND */ INTO sales_hist (sale_id, cust_id, amount, sale_date)
SELECT s.sale_id, s.cust_id, s.amount * NVL(r.rate, 1), TRUNC(s.sale_ts)
FROM sales s LEFT JOIN fx_rates r ON r.currency = s.currency AND r.day = TRUNC(s.sale_ts)
WHERE s.sale_ts < SYSDATE - 30;
-- stmt: insert_all_unconditional | expect: lineage
INSERT ALL
  INTO sales_q1 (id, amount) VALUES (id, q1)
  INTO sales_q2 (id, amount) VALUES (id, q2)
SELECT id, q1, q2 FROM sales_pivot;
-- stmt: insert_first_branches | expect: lineage
INSERT FIRST
  WHEN order_total > 10000 THEN INTO special_orders
  WHEN order_total > 1000 THEN INTO large_orders (order_id, total) VALUES (order_id, order_total)
  ELSE INTO small_orders (order_id, total) VALUES (order_id, order_total)
SELECT order_id, order_total, customer_id FROM orders;
-- stmt: merge_delete_where | expect: lineage
MERGE INTO bonuses b
USING (SELECT employee_id, salary, department_id FROM employees WHERE department_id = 80) e
ON (b.employee_id = e.employee_id)
WHEN MATCHED THEN UPDATE SET b.bonus = e.salary * 0.1 DELETE WHERE (e.salary > 8000)
WHEN NOT MATCHED THEN INSERT (b.employee_id, b.bonus) VALUES (e.employee_id, e.salary * 0.05);
-- stmt: ctas_decode | expect: lineage
CREATE TABLE emp_grades AS
SELECT empno, ename, DECODE(grade, 1, 'LOW', 2, 'MID', 'HIGH') AS grade_name, NVL(comm, 0) AS comm
FROM emp e JOIN salgrade g ON e.sal BETWEEN g.losal AND g.hisal;
-- stmt: view_connect_by | expect: lineage
CREATE OR REPLACE VIEW v_org AS
SELECT employee_id, last_name, manager_id, LEVEL AS depth, SYS_CONNECT_BY_PATH(last_name, '/') AS path
FROM employees START WITH manager_id IS NULL CONNECT BY PRIOR employee_id = manager_id;
-- stmt: materialized_view | expect: lineage
CREATE MATERIALIZED VIEW mv_dept_sal BUILD IMMEDIATE REFRESH COMPLETE ON DEMAND AS
SELECT department_id, SUM(salary) AS total_sal, COUNT(*) AS headcount FROM employees GROUP BY department_id;
-- stmt: update_row_subquery | expect: lineage
UPDATE employees e SET (salary, commission_pct) =
  (SELECT AVG(salary), AVG(commission_pct) FROM employees x WHERE x.department_id = e.department_id)
WHERE e.job_id = 'SA_REP';
-- stmt: delete_exists | expect: lineage
DELETE FROM order_items oi WHERE EXISTS (SELECT 1 FROM orders o WHERE o.order_id = oi.order_id AND o.status = 'X');
-- stmt: procedure_cursor_loop | expect: lineage
CREATE OR REPLACE PROCEDURE load_dept_totals IS
  CURSOR c_dept IS SELECT department_id FROM departments;
  v_total NUMBER;
BEGIN
  FOR r IN c_dept LOOP
    INSERT INTO dept_totals (department_id, total)
    SELECT department_id, SUM(salary) FROM employees WHERE department_id = r.department_id GROUP BY department_id;
  END LOOP;
  COMMIT;
END load_dept_totals;
-- stmt: anonymous_block | expect: lineage
DECLARE
  v_cutoff DATE := ADD_MONTHS(SYSDATE, -12);
BEGIN
  INSERT INTO orders_archive SELECT * FROM orders WHERE order_date < v_cutoff;
  DELETE FROM orders WHERE order_date < v_cutoff;
END;
-- stmt: trigger_new_row | expect: lineage
CREATE OR REPLACE TRIGGER trg_emp_audit
AFTER UPDATE OF salary ON employees
FOR EACH ROW
BEGIN
  INSERT INTO salary_audit (employee_id, old_sal, new_sal, dept_name)
  SELECT :OLD.employee_id, :OLD.salary, :NEW.salary, d.department_name FROM departments d WHERE d.department_id = :NEW.department_id;
END;
-- stmt: procedure_select_into_then_insert | expect: lineage
CREATE OR REPLACE PROCEDURE snapshot_emp(p_id IN NUMBER) AS
  v_name employees.last_name%TYPE;
  v_sal employees.salary%TYPE;
BEGIN
  SELECT last_name, salary INTO v_name, v_sal FROM employees WHERE employee_id = p_id;
  INSERT INTO emp_snapshots (employee_id, last_name, salary) SELECT employee_id, last_name, salary FROM employees WHERE employee_id = p_id;
END;
-- stmt: bulk_collect_forall | expect: lineage
DECLARE
  TYPE t_ids IS TABLE OF NUMBER;
  v_ids t_ids;
BEGIN
  SELECT order_id BULK COLLECT INTO v_ids FROM orders WHERE status = 'NEW';
  FORALL i IN 1 .. v_ids.COUNT
    INSERT INTO order_queue (order_id, queued_at) SELECT order_id, SYSDATE FROM orders WHERE order_id = v_ids(i);
END;
-- stmt: listagg | expect: lineage
INSERT INTO dept_members (department_id, members)
SELECT department_id, LISTAGG(last_name, ', ') WITHIN GROUP (ORDER BY last_name) FROM employees GROUP BY department_id;
-- stmt: global_temporary_ctas | expect: lineage
CREATE GLOBAL TEMPORARY TABLE gtt_orders ON COMMIT PRESERVE ROWS AS SELECT order_id, customer_id FROM orders WHERE 1 = 0;
-- stmt: outer_join_plus | expect: lineage
INSERT INTO cust_orders (customer_id, order_id)
SELECT c.customer_id, o.order_id FROM customers c, orders o WHERE c.customer_id = o.customer_id(+);
-- stmt: package_body | expect: lineage
CREATE OR REPLACE PACKAGE BODY pkg_load AS
  PROCEDURE load_customers IS
  BEGIN
    INSERT INTO dim_customer (customer_id, name) SELECT customer_id, cust_name FROM stg_customer;
  END load_customers;
END pkg_load;
-- stmt: update_rownum | expect: lineage
UPDATE tasks SET status = 'PICKED' WHERE task_id IN (SELECT task_id FROM task_queue WHERE ROWNUM <= 10);
-- stmt: select_into_record_fields | expect: lineage
BEGIN
  SELECT t.x, t.y INTO r.a, r.b FROM measurements t WHERE t.id = 1;
END;
-- stmt: ctas_with_analytic | expect: lineage
CREATE TABLE emp_rank AS
SELECT employee_id, department_id, RANK() OVER (PARTITION BY department_id ORDER BY salary DESC) AS rnk FROM employees;
-- stmt: execute_immediate_literal | expect: lineage
BEGIN
  EXECUTE IMMEDIATE 'INSERT INTO audit_log (id) SELECT id FROM orders WHERE status = ''NEW''';
END;
-- stmt: model_clause | expect: error
INSERT INTO sales_forecast (country, year, amount)
SELECT country, year, amount FROM sales_view
MODEL PARTITION BY (country) DIMENSION BY (year) MEASURES (amount) RULES (amount[2025] = amount[2024] * 1.1);
