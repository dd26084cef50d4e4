-- Hand-written fidelity corpus for the lineage engine (GitHub issue #10), read by
-- benchmarks/engine_fidelity.py. Each case: `-- case:` name, `-- shape:` (issue #10 item or
-- `statement` for plain statement kinds), `-- kind:` statement kind, `-- vendor:` dbvendor, then
-- one `-- edge: source -> target type` per expected end-to-end relation (ignoreRecordSet, fdd and
-- fdr; names compared case-insensitively; `PseudoRows` is the row-count pseudo column), then
-- the SQL. The edges were written by reading the SQL, not by running the engine.

-- case: insert_parenthesised_query
-- shape: parenthesised
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
-- edge: s.c -> t.PseudoRows fdr
INSERT INTO t (SELECT a, b FROM s WHERE s.c > 0);

-- case: insert_columns_parenthesised_query
-- shape: parenthesised
-- kind: insert
-- vendor: dbvmssql
-- edge: s.a -> t.x fdd
-- edge: s.b -> t.y fdd
INSERT INTO t (x, y) (SELECT a, b FROM s);

-- case: ctas_parenthesised_with
-- shape: parenthesised
-- kind: create_table
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.bb fdd
CREATE TABLE t AS (WITH c AS (SELECT a, b FROM s) SELECT a, b AS bb FROM c);

-- case: teradata_ctas_with_data
-- shape: parenthesised
-- kind: create_table
-- vendor: dbvteradata
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
CREATE TABLE t AS (SELECT a, b FROM s) WITH DATA;

-- case: insert_parenthesised_union_branches
-- shape: parenthesised
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: u.b -> t.a fdd
INSERT INTO t ((SELECT a FROM s) UNION (SELECT b FROM u));

-- case: insert_parenthesised_union
-- shape: parenthesised
-- kind: insert
-- vendor: dbvoracle
-- edge: s.a -> t.a fdd
-- edge: u.b -> t.a fdd
INSERT INTO t (SELECT a FROM s UNION ALL SELECT b FROM u);

-- case: view_parenthesised_query
-- shape: parenthesised
-- kind: create_view
-- vendor: dbvmysql
-- edge: s.a -> v.a fdd
CREATE VIEW v AS (SELECT a FROM s);

-- case: star_through_derived_table_with_window
-- shape: star_passthrough
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
-- edge: s.k -> t.PseudoRows fdr
-- edge: s.d -> t.PseudoRows fdr
INSERT INTO t
SELECT a, b FROM (SELECT *, row_number() OVER (PARTITION BY k ORDER BY d) AS rn FROM s) x
WHERE rn = 1;

-- case: star_through_cte
-- shape: star_passthrough
-- kind: create_table
-- vendor: dbvbigquery
-- edge: ds.s.a -> ds.t.a fdd
-- edge: ds.s.b -> ds.t.PseudoRows fdr
CREATE TABLE ds.t AS WITH c AS (SELECT * FROM ds.s) SELECT a FROM c WHERE b > 0;

-- case: star_through_two_levels
-- shape: star_passthrough
-- kind: insert
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
INSERT INTO t SELECT d.a FROM (SELECT c.* FROM (SELECT * FROM s) c) d;

-- case: qualified_star_beside_join
-- shape: star_passthrough
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: u.b -> t.b fdd
-- edge: s.id -> t.PseudoRows fdr
-- edge: u.id -> t.PseudoRows fdr
INSERT INTO t SELECT x.a, x.b FROM (SELECT s.*, u.b FROM s JOIN u ON s.id = u.id) x;

-- case: star_over_two_tables_proves_nothing
-- shape: star_passthrough
-- kind: insert
-- vendor: dbvmssql
-- edge: s.id -> t.PseudoRows fdr
-- edge: u.id -> t.PseudoRows fdr
INSERT INTO t SELECT a FROM (SELECT * FROM s JOIN u ON s.id = u.id) x;

-- case: spark_star_beside_a_constant
-- shape: star_passthrough
-- kind: insert
-- vendor: dbvsparksql
-- edge: s.a -> t.a fdd
INSERT INTO t SELECT a FROM (SELECT *, 1 AS one FROM s) q WHERE q.one = 1;

-- case: join_on_column_the_derived_table_lacks
-- shape: per_column
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: u.zz -> t.zz fdd
-- edge: u.id -> t.PseudoRows fdr
INSERT INTO t SELECT x.a, y.zz FROM (SELECT a FROM s) x JOIN u y ON x.nope = y.id;

-- case: where_on_column_the_derived_table_lacks
-- shape: per_column
-- kind: insert
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
-- edge: s.id -> t.id fdd
-- edge: u.b -> t.b fdd
-- edge: s.id -> t.PseudoRows fdr
-- edge: u.id -> t.PseudoRows fdr
INSERT INTO t
SELECT x.a, x.id, y.b FROM (SELECT a, id FROM s) x JOIN u y ON x.id = y.id
WHERE x.missing = 1;

-- case: second_join_key_the_subquery_lacks
-- shape: per_column
-- kind: insert
-- vendor: dbvhive
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
-- edge: s.id -> t.PseudoRows fdr
-- edge: s.k -> t.PseudoRows fdr
-- edge: u.id -> t.PseudoRows fdr
INSERT INTO TABLE t
SELECT s.a, s.b FROM s LEFT JOIN (SELECT id FROM u) x ON s.id = x.id AND s.k = x.k;

-- case: unknown_column_keeps_unqualified_neighbours
-- shape: per_column
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: u.b -> t.b fdd
-- edge: s.id -> t.PseudoRows fdr
-- edge: u.id -> t.PseudoRows fdr
CREATE TABLE s (a INT, id INT);
CREATE TABLE u (id INT, b INT);
INSERT INTO t
SELECT a, b FROM s JOIN u ON s.id = u.id JOIN (SELECT id FROM w) x ON x.nope = s.id;

-- case: oracle_join_key_the_subquery_lacks
-- shape: per_column
-- kind: insert
-- vendor: dbvoracle
-- edge: s.a -> t.a fdd
-- edge: u.b -> t.b fdd
-- edge: u.id -> t.PseudoRows fdr
INSERT INTO t SELECT x.a, y.b FROM (SELECT a FROM s) x JOIN u y ON x.id = y.id;

-- case: tsql_update_through_aliases
-- shape: update
-- kind: update
-- vendor: dbvmssql
-- edge: s.c -> t.c fdd
-- edge: t.id -> t.PseudoRows fdr
-- edge: s.id -> t.PseudoRows fdr
UPDATE a SET a.c = b.c FROM t a JOIN s b ON a.id = b.id;

-- case: tsql_update_from_cte
-- shape: update
-- kind: update
-- vendor: dbvmssql
-- edge: s.c -> t.c fdd
-- edge: t.id -> t.PseudoRows fdr
-- edge: s.id -> t.PseudoRows fdr
-- edge: s.ok -> t.PseudoRows fdr
WITH cte AS (SELECT id, c FROM s WHERE s.ok = 1)
UPDATE t SET t.c = cte.c FROM t JOIN cte ON t.id = cte.id;

-- case: update_self_increment
-- shape: update
-- kind: update
-- vendor: dbvpostgresql
-- edge: t.c -> t.c fdd
UPDATE t SET c = c + 1;

-- case: postgres_update_from
-- shape: update
-- kind: update
-- vendor: dbvpostgresql
-- edge: s.c -> t.c fdd
-- edge: s.d -> t.d fdd
-- edge: t.id -> t.PseudoRows fdr
-- edge: s.id -> t.PseudoRows fdr
UPDATE t SET c = s.c, d = s.d * 2 FROM s WHERE t.id = s.id;

-- case: snowflake_update_from
-- shape: update
-- kind: update
-- vendor: dbvsnowflake
-- edge: s.c -> t.c fdd
-- edge: t.id -> t.PseudoRows fdr
-- edge: s.id -> t.PseudoRows fdr
-- edge: s.flag -> t.PseudoRows fdr
UPDATE t SET c = s.c FROM s WHERE t.id = s.id AND s.flag = 'Y';

-- case: postgres_update_from_cte
-- shape: update
-- kind: update
-- vendor: dbvpostgresql
-- edge: s.c -> t.c fdd
-- edge: t.id -> t.PseudoRows fdr
-- edge: s.id -> t.PseudoRows fdr
WITH cte AS (SELECT id, c FROM s) UPDATE t SET c = cte.c FROM cte WHERE t.id = cte.id;

-- case: mysql_multi_table_update
-- shape: update
-- kind: update
-- vendor: dbvmysql
-- edge: s.c -> t.c fdd
-- edge: t.id -> t.PseudoRows fdr
-- edge: s.id -> t.PseudoRows fdr
UPDATE t JOIN s ON t.id = s.id SET t.c = s.c;

-- case: insert_all_values_by_name
-- shape: insert_all
-- kind: insert
-- vendor: dbvoracle
-- edge: s.b -> t1.b fdd
-- edge: s.a -> t1.a fdd
-- edge: s.a -> t2.p fdd
-- edge: s.b -> t2.q fdd
INSERT ALL INTO t1 VALUES (b, a) INTO t2 (p, q) VALUES (a, b) SELECT a, b FROM s;

-- case: insert_first_known_target_by_position
-- shape: insert_all
-- kind: insert
-- vendor: dbvoracle
-- edge: s.y -> t3.m fdd
-- edge: s.x -> t3.n fdd
-- edge: s.x -> t3.PseudoRows fdr
-- edge: s.x -> t1.a fdd
CREATE TABLE t3 (m NUMBER, n NUMBER);
INSERT FIRST WHEN a > 0 THEN INTO t3 VALUES (b, a) ELSE INTO t1 VALUES (a)
SELECT x AS a, y AS b FROM s;

-- case: insert_all_same_table_twice
-- shape: insert_all
-- kind: insert
-- vendor: dbvoracle
-- edge: s.a -> t1.p fdd
-- edge: s.b -> t1.q fdd
-- edge: s.k -> t1.PseudoRows fdr
INSERT ALL INTO t1 (p) VALUES (a) INTO t1 (q) VALUES (b) SELECT a, b FROM s WHERE s.k = 1;

-- case: insert_all_conditional_branches
-- shape: insert_all
-- kind: insert
-- vendor: dbvoracle
-- edge: s.a -> t1.p fdd
-- edge: s.k -> t1.PseudoRows fdr
-- edge: s.b -> t2.b fdd
-- edge: s.k -> t2.PseudoRows fdr
INSERT ALL
  WHEN k = 1 THEN INTO t1 (p) VALUES (a)
  WHEN k = 2 THEN INTO t2 VALUES (b)
SELECT a, b, k FROM s;

-- case: create_table_foreign_keys
-- shape: foreign_key
-- kind: create_table
-- vendor: dbvpostgresql
-- edge: p.id -> c.pid fdd
-- edge: p2.a -> c.q fdd
-- edge: p2.b -> c.r fdd
CREATE TABLE c (
  id INT, pid INT REFERENCES p (id), q INT, r INT,
  CONSTRAINT f FOREIGN KEY (q, r) REFERENCES p2 (a, b)
);

-- case: alter_table_add_foreign_key
-- shape: foreign_key
-- kind: alter_table
-- vendor: dbvpostgresql
-- edge: p.id -> c.pid fdd
ALTER TABLE c ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id);

-- case: tsql_alter_table_foreign_key
-- shape: foreign_key
-- kind: alter_table
-- vendor: dbvmssql
-- edge: dbo.p.id -> dbo.c.pid fdd
ALTER TABLE dbo.c ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES dbo.p (id);

-- case: oracle_create_table_foreign_key
-- shape: foreign_key
-- kind: create_table
-- vendor: dbvoracle
-- edge: p.id -> c.pid fdd
CREATE TABLE c (id NUMBER, pid NUMBER, CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id));

-- case: mysql_foreign_key_with_action
-- shape: foreign_key
-- kind: create_table
-- vendor: dbvmysql
-- edge: p.id -> c.pid fdd
CREATE TABLE c (id INT, pid INT, FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE);

-- case: bigquery_procedure_two_statements
-- shape: procedure
-- kind: procedure
-- vendor: dbvbigquery
-- edge: s.a -> t.a fdd
-- edge: s.b -> u.b fdd
CREATE PROCEDURE ds.p()
BEGIN
  INSERT INTO t SELECT a FROM s;
  INSERT INTO u SELECT b FROM s;
END;

-- case: bigquery_procedure_declare_then_statement_after
-- shape: procedure
-- kind: procedure
-- vendor: dbvbigquery
-- edge: s.a -> t.a fdd
-- edge: s.c -> w.c fdd
CREATE OR REPLACE PROCEDURE ds.p(x INT64)
BEGIN
  DECLARE y INT64;
  INSERT INTO t SELECT a FROM s;
END;
INSERT INTO w SELECT c FROM s;

-- case: snowflake_execute_immediate_block
-- shape: procedure
-- kind: procedure
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
EXECUTE IMMEDIATE $$
BEGIN
  INSERT INTO t SELECT a FROM s;
END;
$$;

-- case: snowflake_sql_procedure
-- shape: procedure
-- kind: procedure
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
-- edge: s.b -> u.b fdd
CREATE OR REPLACE PROCEDURE p() RETURNS VARCHAR LANGUAGE SQL AS $$
BEGIN
  INSERT INTO t SELECT a FROM s;
  INSERT INTO u SELECT b FROM s;
  RETURN 'done';
END;
$$;

-- case: snowflake_anonymous_block
-- shape: procedure
-- kind: procedure
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
-- edge: s.b -> u.b fdd
-- edge: u.id -> u.PseudoRows fdr
-- edge: s.id -> u.PseudoRows fdr
BEGIN
  INSERT INTO t SELECT a FROM s;
  UPDATE u SET b = s.b FROM s WHERE u.id = s.id;
END;

-- case: postgres_do_block
-- shape: procedure
-- kind: procedure
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
DO $$ BEGIN INSERT INTO t SELECT a FROM s; END $$;

-- case: plpgsql_function_with_declare
-- shape: procedure
-- kind: procedure
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: s.k -> t.PseudoRows fdr
CREATE FUNCTION f() RETURNS void AS $body$
DECLARE n int;
BEGIN
  INSERT INTO t SELECT a FROM s WHERE s.k > 0;
END
$body$ LANGUAGE plpgsql;

-- case: plpgsql_function_quoted_body
-- shape: procedure
-- kind: procedure
-- vendor: dbvgreenplum
-- edge: s.a -> t.a fdd
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS 'BEGIN INSERT INTO t SELECT a FROM s; END';

-- case: tsql_procedure_block
-- shape: procedure
-- kind: procedure
-- vendor: dbvmssql
-- edge: s.a -> t.a fdd
-- edge: s.b -> u.b fdd
CREATE PROCEDURE load_t AS
BEGIN
  INSERT INTO t SELECT a FROM s;
  INSERT INTO u SELECT b FROM s;
END;

-- case: tsql_procedure_body_with_string_literals
-- shape: procedure
-- kind: procedure
-- vendor: dbvmssql
-- edge: s.a -> t.a fdd
-- edge: s.k -> t.PseudoRows fdr
CREATE PROCEDURE p AS UPDATE t SET a = s.a FROM s WHERE s.k = 'x';

-- case: cast_keeps_column_name
-- shape: column_names
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
-- edge: s.c -> t.c2 fdd
INSERT INTO t SELECT CAST(a AS int), b::text, CAST(c AS varchar(10)) AS c2 FROM s;

-- case: try_cast_keeps_column_name
-- shape: column_names
-- kind: create_table
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
CREATE TABLE t AS SELECT TRY_CAST(a AS int) FROM s;

-- case: teradata_title_and_format
-- shape: column_names
-- kind: create_table
-- vendor: dbvteradata
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
CREATE TABLE t AS (SELECT a (TITLE 'Amount'), b (FORMAT 'X(3)') FROM s) WITH DATA;

-- case: fromless_scalar_subquery
-- shape: column_names
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.c fdd
-- edge: s.b -> t.c fdd
INSERT INTO t SELECT (SELECT a + b) AS c FROM s;

-- case: redshift_casts_keep_names
-- shape: column_names
-- kind: create_table
-- vendor: dbvredshift
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.d fdd
CREATE TABLE t AS SELECT a::varchar(10), CAST(b AS date) AS d FROM s;

-- case: athena_try_cast_keeps_name
-- shape: column_names
-- kind: insert
-- vendor: dbvathena
-- edge: s.a -> t.a fdd
INSERT INTO t SELECT TRY_CAST(a AS integer) FROM s;

-- case: same_name_tables_in_two_schemas
-- shape: schemas
-- kind: insert
-- vendor: dbvpostgresql
-- edge: x.t.a -> z.a fdd
-- edge: x.t.b -> z.b fdd
-- edge: y.t.c -> w.c fdd
CREATE TABLE x.t (a int, b int);
CREATE TABLE y.t (c int);
INSERT INTO z SELECT * FROM x.t;
INSERT INTO w SELECT * FROM y.t;

-- case: same_name_tables_qualified_columns
-- shape: schemas
-- kind: insert
-- vendor: dbvsnowflake
-- edge: a.t.k -> z.k fdd
-- edge: b.t.m -> w.m fdd
CREATE TABLE a.t (k INT);
CREATE TABLE b.t (m INT);
INSERT INTO z SELECT k FROM a.t;
INSERT INTO w SELECT m FROM b.t;

-- case: same_name_select_into_in_two_schemas
-- shape: schemas
-- kind: select_into
-- vendor: dbvmssql
-- edge: s.a -> x.t.a fdd
-- edge: u.b -> y.t.b fdd
-- edge: x.t.a -> z.a fdd
SELECT a INTO x.t FROM s;
SELECT b INTO y.t FROM u;
INSERT INTO z SELECT * FROM x.t;

-- case: oracle_same_name_tables_star
-- shape: schemas
-- kind: insert
-- vendor: dbvoracle
-- edge: fin.emp.id -> rep.id fdd
-- edge: fin.emp.salary -> rep.salary fdd
CREATE TABLE hr.emp (id NUMBER, name VARCHAR2(10));
CREATE TABLE fin.emp (id NUMBER, salary NUMBER);
INSERT INTO rep SELECT e.* FROM fin.emp e;

-- case: select_with_where
-- shape: statement
-- kind: select
-- vendor: dbvpostgresql
-- edge: s.a -> RS-1.a fdd
-- edge: s.b -> RS-1.b fdd
-- edge: s.c -> RS-1.PseudoRows fdr
SELECT a, b FROM s WHERE c > 0;

-- case: ansi_insert_column_list
-- shape: statement
-- kind: insert
-- vendor: dbvdb2
-- edge: s.a -> t.x fdd
INSERT INTO t (x) SELECT a FROM s;

-- case: presto_ctas
-- shape: statement
-- kind: create_table
-- vendor: dbvpresto
-- edge: s.a -> t.a fdd
CREATE TABLE t AS SELECT a FROM s;

-- case: spark_view_with_group_by
-- shape: statement
-- kind: create_view
-- vendor: dbvsparksql
-- edge: s.a -> v.a fdd
-- edge: s.a -> v.n fdr
-- edge: s.PseudoRows -> v.n fdr
CREATE VIEW v AS SELECT a, COUNT(*) AS n FROM s GROUP BY a;

-- case: tsql_select_into_temp
-- shape: statement
-- kind: select_into
-- vendor: dbvmssql
-- edge: s.a -> #tmp.a fdd
-- edge: s.b -> #tmp.b fdd
-- edge: s.k -> #tmp.PseudoRows fdr
SELECT a, b INTO #tmp FROM s WHERE s.k = 1;

-- case: delete_with_subquery
-- shape: statement
-- kind: delete
-- vendor: dbvpostgresql
-- edge: t.a -> t.PseudoRows fdr
-- edge: u.a -> t.PseudoRows fdr
-- edge: u.ok -> t.PseudoRows fdr
DELETE FROM t WHERE t.a IN (SELECT u.a FROM u WHERE u.ok = 1);

-- case: oracle_merge
-- shape: statement
-- kind: merge
-- vendor: dbvoracle
-- edge: s.a -> t.a fdd
-- edge: s.id -> t.id fdd
-- edge: t.id -> t.PseudoRows fdr
-- edge: s.id -> t.PseudoRows fdr
MERGE INTO t USING s ON (t.id = s.id)
WHEN MATCHED THEN UPDATE SET t.a = s.a
WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.a);

-- case: hive_rename_table
-- shape: statement
-- kind: alter_table
-- vendor: dbvhive
-- edge: a.PseudoRows -> b.PseudoRows fdd
ALTER TABLE a RENAME TO b;

-- case: redshift_insert_join_where
-- shape: statement
-- kind: insert
-- vendor: dbvredshift
-- edge: s.a -> t.a fdd
-- edge: u.b -> t.b fdd
-- edge: s.id -> t.PseudoRows fdr
-- edge: u.id -> t.PseudoRows fdr
-- edge: u.ok -> t.PseudoRows fdr
INSERT INTO t SELECT s.a, u.b FROM s JOIN u ON s.id = u.id WHERE u.ok;

-- ---- issue #20: engine bugs (each lost the whole statement to a SemanticError) ----

-- case: tsql_delete_without_from
-- shape: engine_bug
-- kind: delete
-- vendor: dbvmssql
-- edge: Sales.Cart.id -> Sales.Cart.PseudoRows fdr
DELETE Sales.Cart WHERE id = 1;

-- case: bigquery_delete_without_from
-- shape: engine_bug
-- kind: delete
-- vendor: dbvbigquery
-- edge: ds.cart.status -> ds.cart.PseudoRows fdr
DELETE ds.cart WHERE status = 'void';

-- case: spark_merge_update_set_star_insert_star
-- shape: engine_bug
-- kind: merge
-- vendor: dbvsparksql
-- edge: s.id -> t.id fdd
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
-- edge: s.id -> t.PseudoRows fdr
-- edge: t.id -> t.PseudoRows fdr
CREATE TABLE s (id INT, a INT, b STRING);
MERGE INTO t USING s ON t.id = s.id
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;

-- case: databricks_merge_update_set_star_except
-- shape: engine_bug
-- kind: merge
-- vendor: dbvdatabricks
-- edge: s.id -> t.id fdd
-- edge: s.a -> t.a fdd
-- edge: s.id -> t.PseudoRows fdr
-- edge: t.id -> t.PseudoRows fdr
CREATE TABLE s (id INT, a INT, b STRING);
MERGE INTO t USING s ON t.id = s.id
WHEN MATCHED THEN UPDATE SET * EXCEPT (b);

-- case: star_order_by_ordinal
-- shape: engine_bug
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.b fdd
CREATE TABLE s (a INT, b TEXT);
INSERT INTO t SELECT * FROM s ORDER BY 1;

-- case: parenthesised_union_star_order_by_ordinal
-- shape: engine_bug
-- kind: create_view
-- vendor: dbvpostgresql
-- edge: s.a -> v.a fdd
-- edge: s.b -> v.b fdd
-- edge: u.a -> v.a fdd
-- edge: u.b -> v.b fdd
CREATE TABLE s (a INT, b TEXT);
CREATE TABLE u (a INT, b TEXT);
CREATE VIEW v AS (SELECT * FROM s) UNION (SELECT * FROM u) ORDER BY 1;

-- case: postgres_unicode_escape_string
-- shape: engine_bug
-- kind: insert
-- vendor: dbvpostgresql
-- edge: s.a -> t.y fdd
INSERT INTO t (x, y) SELECT U&'d!0061t!+000061' UESCAPE '!', a FROM s;

-- case: oracle_select_into_record_fields
-- shape: engine_bug
-- kind: procedure
-- vendor: dbvoracle
-- edge: t.x -> RS-1.x fdd
-- edge: t.y -> RS-1.y fdd
-- edge: t.id -> RS-1.PseudoRows fdr
CREATE OR REPLACE PROCEDURE p IS
BEGIN
  SELECT t.x, t.y INTO r.a, r.b FROM t WHERE t.id = 1;
END;

-- case: oracle_bulk_collect_into
-- shape: engine_bug
-- kind: procedure
-- vendor: dbvoracle
-- edge: emp.id -> RS-1.id fdd
-- edge: emp.name -> RS-1.name fdd
-- edge: emp.dept -> RS-1.PseudoRows fdr
CREATE OR REPLACE PROCEDURE p AS
BEGIN
  SELECT id, name BULK COLLECT INTO v_ids, v_names FROM emp WHERE dept = 10;
END;

-- case: postgres_for_share_of_tables
-- shape: engine_bug
-- kind: insert
-- vendor: dbvpostgresql
-- edge: t1.a -> r.a fdd
-- edge: t2.b -> r.b fdd
-- edge: t1.id -> r.PseudoRows fdr
-- edge: t2.id -> r.PseudoRows fdr
INSERT INTO r SELECT t1.a, t2.b FROM t1 JOIN t2 ON t1.id = t2.id FOR SHARE OF t1, t2;

-- case: spark_unpivot_include_nulls
-- shape: engine_bug
-- kind: insert
-- vendor: dbvsparksql
-- edge: s.id -> r.id fdd
-- edge: s.q1 -> r.amount fdd
-- edge: s.q2 -> r.amount fdd
INSERT INTO r
SELECT id, quarter, amount FROM s UNPIVOT INCLUDE NULLS (amount FOR quarter IN (q1, q2));

-- case: databricks_alter_view_identifier_rename
-- shape: engine_bug
-- kind: alter_table
-- vendor: dbvdatabricks
-- edge: a.v1.PseudoRows -> a.v2.PseudoRows fdd
ALTER VIEW IDENTIFIER('a.v1') RENAME TO IDENTIFIER('a.v2');

-- case: oracle_insert_all_branch_without_columns_or_values
-- shape: engine_bug
-- kind: insert
-- vendor: dbvoracle
-- edge: orders.id -> special_orders.id fdd
-- edge: orders.amt -> special_orders.amt fdd
-- edge: orders.amt -> special_orders.PseudoRows fdr
-- edge: orders.id -> small_orders.id fdd
-- edge: orders.amt -> small_orders.PseudoRows fdr
INSERT ALL
  WHEN amt > 100 THEN INTO special_orders
  WHEN amt < 10 THEN INTO small_orders (id) VALUES (id)
SELECT o.id, o.amt FROM orders o;

-- ---- issue #20: silent shapes (no lineage, no error, no warning) ----

-- case: mysql_alter_view_as
-- shape: silent
-- kind: create_view
-- vendor: dbvmysql
-- edge: s.a -> v.a fdd
-- edge: s.b -> v.b fdd
-- edge: s.c -> v.PseudoRows fdr
ALTER VIEW v AS SELECT a, b FROM s WHERE c > 0;

-- case: hive_alter_view_as
-- shape: silent
-- kind: create_view
-- vendor: dbvhive
-- edge: s.a -> v.a fdd
-- edge: s.c -> v.PseudoRows fdr
ALTER VIEW v AS SELECT a FROM s WHERE c > 0;

-- case: databricks_alter_view_as
-- shape: silent
-- kind: create_view
-- vendor: dbvdatabricks
-- edge: db.s.a -> db.v.total fdd
-- edge: db.s.k -> db.v.total fdr
ALTER VIEW db.v AS SELECT SUM(a) AS total FROM db.s GROUP BY k;

-- case: bigquery_export_data
-- shape: silent
-- kind: select
-- vendor: dbvbigquery
-- edge: ds.s.a -> RS-1.a fdd
-- edge: ds.s.b -> RS-1.b fdd
-- edge: ds.s.d -> RS-1.PseudoRows fdr
EXPORT DATA OPTIONS (uri = 'gs://bucket/out/*.csv', format = 'CSV', overwrite = true) AS
SELECT a, b FROM ds.s WHERE d > '2024-01-01';

-- case: bigquery_create_table_function
-- shape: silent
-- kind: select
-- vendor: dbvbigquery
-- edge: ds.s.a -> RS-1.a fdd
-- edge: ds.s.b -> RS-1.b fdd
-- edge: ds.s.c -> RS-1.PseudoRows fdr
CREATE TABLE FUNCTION ds.f(x INT64) AS SELECT a, b FROM ds.s WHERE c = x;

-- case: spark_cache_table_as
-- shape: silent
-- kind: create_table
-- vendor: dbvsparksql
-- edge: s.a -> c.a fdd
-- edge: s.b -> c.PseudoRows fdr
CACHE TABLE c AS SELECT a FROM s WHERE b > 0;

-- case: postgres_copy_query_to_file
-- shape: silent
-- kind: select
-- vendor: dbvpostgresql
-- edge: s.a -> RS-1.a fdd
-- edge: s.b -> RS-1.b fdd
-- edge: s.c -> RS-1.PseudoRows fdr
COPY (SELECT a, b FROM s WHERE c = 1) TO '/tmp/out.csv' WITH (FORMAT csv);

-- case: mysql_set_variable_from_query
-- shape: silent
-- kind: select
-- vendor: dbvmysql
-- edge: t.x -> RS-1.@v fdd
-- edge: t.y -> RS-1.@v fdr
SET @v = (SELECT SUM(x) FROM t WHERE y > 0);

-- case: postgres_on_conflict_update_from_subquery
-- shape: silent
-- kind: insert
-- vendor: dbvpostgresql
-- edge: u.k -> t.k fdd
-- edge: u.c -> t.c fdd
-- edge: s.c -> t.c fdd
-- edge: s.k -> t.c fdr
-- edge: t.k -> t.c fdr
INSERT INTO t (k, c) SELECT k, c FROM u
ON CONFLICT (k) DO UPDATE SET (c) = (SELECT c FROM s WHERE s.k = excluded.k);

-- case: delta_merge_insert_star_from_query
-- shape: silent
-- kind: merge
-- vendor: dbvdatabricks
-- edge: src.id -> t.id fdd
-- edge: src.a -> t.a fdd
-- edge: src.id -> t.PseudoRows fdr
-- edge: t.id -> t.PseudoRows fdr
MERGE INTO t USING (SELECT id, a FROM src) s ON t.id = s.id
WHEN NOT MATCHED THEN INSERT *;

-- case: bigquery_merge_insert_row
-- shape: silent
-- kind: merge
-- vendor: dbvbigquery
-- edge: ds.s.id -> ds.t.id fdd
-- edge: ds.s.a -> ds.t.a fdd
-- edge: ds.s.id -> ds.t.PseudoRows fdr
-- edge: ds.t.id -> ds.t.PseudoRows fdr
CREATE TABLE ds.s (id INT64, a STRING);
MERGE ds.t T USING ds.s S ON T.id = S.id
WHEN NOT MATCHED THEN INSERT ROW;

-- ---- issue #20: partial recovery (the lineage-bearing core of what sqlglot cannot parse whole) ----

-- case: mysql_event_body
-- shape: recovery
-- kind: procedure
-- vendor: dbvmysql
-- edge: s.a -> t.a fdd
-- edge: s.d -> t.PseudoRows fdr
CREATE EVENT ev_daily
ON SCHEDULE EVERY 1 DAY
DO BEGIN
  INSERT INTO t (a) SELECT a FROM s WHERE s.d = CURDATE();
END;

-- case: mysql_trigger_insert_select
-- shape: recovery
-- kind: procedure
-- vendor: dbvmysql
-- edge: u.a -> t.a fdd
-- edge: u.id -> t.PseudoRows fdr
CREATE TRIGGER trg AFTER INSERT ON s FOR EACH ROW
INSERT INTO t (a) SELECT a FROM u WHERE u.id = NEW.id;

-- case: bigquery_for_in_loop
-- shape: recovery
-- kind: procedure
-- vendor: dbvbigquery
-- edge: ds.s.a -> RS-1.a fdd
-- edge: ds.u.a -> ds.t.a fdd
FOR r IN (SELECT a FROM ds.s) DO
  INSERT INTO ds.t SELECT a FROM ds.u;
END FOR;

-- case: oracle_procedure_declarations_loop_if
-- shape: recovery
-- kind: procedure
-- vendor: dbvoracle
-- edge: s2.id -> RS-1.id fdd
-- edge: s.id -> RS-2.id fdd
-- edge: u.id -> t.id fdd
-- edge: u.ok -> t.PseudoRows fdr
-- edge: u.v -> t.v fdd
-- edge: u.id -> t.PseudoRows fdr
-- edge: t.id -> t.PseudoRows fdr
CREATE OR REPLACE PROCEDURE p IS
  r t%ROWTYPE;
  CURSOR cur IS SELECT id FROM s2;
BEGIN
  FOR c IN (SELECT id FROM s) LOOP
    INSERT INTO t (id) SELECT id FROM u WHERE u.ok = 1;
  END LOOP;
  IF 1 = 1 THEN
    MERGE INTO t USING u ON (t.id = u.id) WHEN MATCHED THEN UPDATE SET t.v = u.v;
  END IF;
END;

-- case: oracle_trigger_body
-- shape: recovery
-- kind: procedure
-- vendor: dbvoracle
-- edge: orders_stage.id -> audit_t.id fdd
-- edge: orders_stage.amt -> audit_t.amt fdd
-- edge: orders_stage.id -> audit_t.PseudoRows fdr
CREATE OR REPLACE TRIGGER trg AFTER INSERT ON orders FOR EACH ROW
BEGIN
  INSERT INTO audit_t (id, amt) SELECT id, amt FROM orders_stage WHERE id = :NEW.id;
END;

-- case: tsql_procedure_with_unparsed_statements
-- shape: recovery
-- kind: procedure
-- vendor: dbvmssql
-- edge: dbo.s.a -> dbo.t.a fdd
-- edge: dbo.s.b -> dbo.t.b fdd
-- edge: dbo.s.d -> dbo.t.PseudoRows fdr
CREATE PROCEDURE dbo.load_t @d DATE AS
BEGIN
  SET NOCOUNT ON;
  BEGIN TRY
    INSERT INTO dbo.t (a, b) SELECT a, b FROM dbo.s WHERE d = @d;
  END TRY
  BEGIN CATCH
    THROW;
  END CATCH
END;

-- case: snowflake_scripting_block
-- shape: recovery
-- kind: procedure
-- vendor: dbvsnowflake
-- edge: s.a -> t.a fdd
-- edge: s.b -> t.PseudoRows fdr
CREATE OR REPLACE PROCEDURE p()
RETURNS VARCHAR
LANGUAGE SQL
AS
$$
DECLARE
  n INTEGER DEFAULT 0;
BEGIN
  FOR i IN 1 TO 3 DO
    INSERT INTO t (a) SELECT a FROM s WHERE b = :i;
  END FOR;
  RETURN 'ok';
END;
$$;
