-- vendor: dbvhive
-- stmt: insert_overwrite_dynamic_partition | expect: lineage
INSERT OVERWRITE TABLE dw.page_views PARTITION (dt)
SELECT user_id, page_url, referrer, to_date(view_time) AS dt FROM ods.page_views_raw WHERE view_time IS NOT NULL;
-- stmt: multi_insert | expect: lineage
FROM ods.events e
INSERT OVERWRITE TABLE dw.clicks SELECT e.user_id, e.ts WHERE e.kind = 'click'
INSERT OVERWRITE TABLE dw.views SELECT e.user_id, e.ts WHERE e.kind = 'view';
-- stmt: ctas_orc | expect: lineage
CREATE TABLE dw.user_totals STORED AS ORC AS SELECT user_id, count(*) AS visits FROM dw.page_views GROUP BY user_id;
-- stmt: alter_view_as | expect: lineage
ALTER VIEW dw.v_users AS SELECT user_id, country FROM dw.users WHERE active = true;
-- stmt: view_lateral_view | expect: lineage
CREATE VIEW dw.v_user_tags AS SELECT u.user_id, tag FROM dw.users u LATERAL VIEW explode(u.tags) t AS tag;
-- stmt: insert_into_table | expect: lineage
INSERT INTO TABLE dw.daily_counts SELECT dt, count(DISTINCT user_id) FROM dw.page_views GROUP BY dt;
-- stmt: insert_overwrite_local_directory | expect: lineage
INSERT OVERWRITE LOCAL DIRECTORY '/tmp/export' ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' SELECT user_id, visits FROM dw.user_totals;
-- stmt: merge_acid | expect: lineage
MERGE INTO dw.customers t USING ods.customers_delta s ON t.id = s.id
WHEN MATCHED AND s.deleted THEN DELETE
WHEN MATCHED THEN UPDATE SET name = s.name, email = s.email
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name, s.email);
-- stmt: update_acid | expect: lineage
UPDATE dw.customers SET segment = 'churned' WHERE id IN (SELECT id FROM dw.churn_list);
-- stmt: temporary_ctas | expect: lineage
CREATE TEMPORARY TABLE tmp_users AS SELECT user_id FROM dw.users WHERE signup_dt > '2024-01-01';
-- stmt: cte_insert_overwrite | expect: lineage
WITH v AS (SELECT user_id, count(*) AS n FROM dw.page_views GROUP BY user_id)
INSERT OVERWRITE TABLE dw.heavy_users SELECT user_id, n FROM v WHERE n > 100;
-- stmt: distribute_sort_by | expect: lineage
INSERT OVERWRITE TABLE dw.sessions SELECT user_id, ts, session_id FROM ods.hits DISTRIBUTE BY user_id SORT BY user_id, ts;
-- stmt: left_semi_join | expect: lineage
INSERT INTO TABLE dw.buyers SELECT u.user_id, u.country FROM dw.users u LEFT SEMI JOIN dw.orders o ON o.user_id = u.user_id;
-- stmt: materialized_view | expect: lineage
CREATE MATERIALIZED VIEW dw.mv_country AS SELECT country, count(*) AS n FROM dw.users GROUP BY country;
-- stmt: ctas_cluster_by | expect: lineage
CREATE TABLE dw.users_sorted AS SELECT user_id, country FROM dw.users CLUSTER BY user_id;
-- stmt: view_window | expect: lineage
CREATE OR REPLACE VIEW dw.v_first_visit AS SELECT user_id, min(view_time) OVER (PARTITION BY user_id) AS first_visit FROM dw.page_views;
-- stmt: insert_union_all | expect: lineage
INSERT OVERWRITE TABLE dw.all_ids SELECT id FROM (SELECT user_id AS id FROM dw.users UNION ALL SELECT user_id AS id FROM dw.guests) x;
-- stmt: insert_get_json_object | expect: lineage
INSERT INTO TABLE dw.events_parsed SELECT get_json_object(payload, '$.id'), get_json_object(payload, '$.kind') FROM ods.events_json;
-- stmt: insert_case_when | expect: lineage
INSERT OVERWRITE TABLE dw.user_bands SELECT user_id, CASE WHEN visits > 100 THEN 'high' WHEN visits > 10 THEN 'mid' ELSE 'low' END FROM dw.user_totals;
-- stmt: insert_map_access | expect: lineage
INSERT INTO TABLE dw.props SELECT id, props['color'], props['size'] FROM ods.items;
-- stmt: transform_script | expect: lineage
INSERT OVERWRITE TABLE dw.scored SELECT TRANSFORM (user_id, visits) USING 'python score.py' AS (user_id, score) FROM dw.user_totals;
