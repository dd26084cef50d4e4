-- One row per source -> target pair of every relationship of the job.
-- Endpoints are resolved by ids, never by names (FORMAT.md §5: case and quoting differ between
-- dbobjs and relationships). An id that does not resolve (star columns such as 28_0, objects
-- missing from dbobjs) falls back to the names the relationship carries; an unresolved object
-- counts as real (not intermediate).
-- Targets and sources are resolved in statements of their own: one query joining both against
-- every column at once holds four hash tables together and does not fit a 1M-relationship job
-- into the flatten database's memory limit.
CREATE TABLE edge_targets AS
SELECT
    r.*,
    coalesce(o.qualified_name, r.target_parent_name) AS target_name,
    coalesce(c.name, r.target_column) AS target_column_name,
    coalesce(o.is_intermediate, false) AS target_is_intermediate
FROM raw_relationships AS r
LEFT JOIN objects AS o ON o.job_id = $job_id AND o.object_id = r.target_object_id
LEFT JOIN columns AS c ON c.job_id = $job_id AND c.object_id = r.target_object_id AND c.column_id = r.target_column_id
WHERE r.job_id = $job_id;

CREATE TABLE edge_sources AS
SELECT
    s.*,
    coalesce(o.qualified_name, s.parent_name) AS source_name,
    coalesce(c.name, s."column") AS source_column_name,
    coalesce(o.is_intermediate, false) AS source_is_intermediate
FROM raw_relationship_sources AS s
LEFT JOIN objects AS o ON o.job_id = $job_id AND o.object_id = s.object_id
LEFT JOIN columns AS c ON c.job_id = $job_id AND c.object_id = s.object_id AND c.column_id = s.column_id
WHERE s.job_id = $job_id;

WITH processes AS (
    SELECT process_id, any_value(name) AS name, any_value(process_type) AS process_type
    FROM raw_processes
    WHERE job_id = $job_id
    GROUP BY process_id
)
SELECT
    $job_id,
    r.relationship_id,
    r.relationship_type,
    r.effect_type,
    s.source_name,
    s.source_column_name,
    r.target_name,
    r.target_column_name,
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
    s.source_is_intermediate,
    r.target_is_intermediate
FROM edge_sources AS s
JOIN edge_targets AS r ON r.relationship_id = s.relationship_id
LEFT JOIN processes AS p ON p.process_id = r.process_id
