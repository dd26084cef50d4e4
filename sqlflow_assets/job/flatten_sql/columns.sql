-- One row per column of a dbobj (first copy when an (object, column) id pair repeats),
-- with the qualified name of its object.
SELECT
    $job_id,
    c.object_id,
    c.column_id,
    c.name,
    c.is_pseudo,
    c.data_type,
    o.qualified_name,
    c.source,
    c.primary_key,
    c.foreign_key,
    c.unique_key
FROM raw_columns AS c
LEFT JOIN objects AS o ON o.job_id = $job_id AND o.object_id = c.object_id
WHERE c.job_id = $job_id
QUALIFY row_number() OVER (PARTITION BY c.object_id, c.column_id ORDER BY c.name) = 1
