-- One row per source -> target pair of every relationship of the job.
-- Endpoints are resolved by ids, never by names (FORMAT.md §5: case and quoting differ between
-- dbobjs and relationships). An id that does not resolve (star columns such as 28_0, objects
-- missing from dbobjs) falls back to the names the relationship carries; an unresolved object
-- counts as real (not intermediate).
WITH objects AS (
    SELECT object_id, qualified_name, is_intermediate FROM {out_objects} WHERE job_id = $job_id
), cols AS (
    SELECT object_id, column_id, name FROM {out_columns} WHERE job_id = $job_id
), processes AS (
    SELECT process_id, any_value(name) AS name, any_value(process_type) AS process_type
    FROM {raw_processes}
    WHERE job_id = $job_id
    GROUP BY process_id
)
SELECT
    $job_id,
    r.relationship_id,
    r.relationship_type,
    r.effect_type,
    coalesce(so.qualified_name, s.parent_name),
    coalesce(sc.name, s."column"),
    coalesce(tob.qualified_name, r.target_parent_name),
    coalesce(tc.name, r.target_column),
    s.object_id,
    s.column_id,
    r.target_object_id,
    r.target_column_id,
    s.ord,
    s.clause_type,
    r.process_id,
    p.name,
    coalesce(r.process_type, p.process_type),
    r."function",
    coalesce(so.is_intermediate, false),
    coalesce(tob.is_intermediate, false)
FROM {raw_relationships} AS r
JOIN {raw_relationship_sources} AS s ON s.job_id = r.job_id AND s.relationship_id = r.relationship_id
LEFT JOIN objects AS so ON so.object_id = s.object_id
LEFT JOIN cols AS sc ON sc.object_id = s.object_id AND sc.column_id = s.column_id
LEFT JOIN objects AS tob ON tob.object_id = r.target_object_id
LEFT JOIN cols AS tc ON tc.object_id = r.target_object_id AND tc.column_id = r.target_column_id
LEFT JOIN processes AS p ON p.process_id = r.process_id
WHERE r.job_id = $job_id
