-- One row per dbobj of the job (first copy when an id repeats).
-- qualified_name: database.schema.name with placeholder parts (NULL, '', '""', DEFAULT) dropped;
-- a name that already holds a dot was qualified in the SQL itself and is kept as written.
SELECT
    $job_id,
    object_id,
    object_type,
    "database",
    "schema",
    name,
    CASE
        WHEN contains(name, '.') THEN name
        ELSE array_to_string(list_append(list_filter(
            ["database", "schema"],
            lambda part: part IS NOT NULL AND trim(part, '"') <> '' AND upper(part) <> 'DEFAULT'
        ), name), '.')
    END,
    NOT list_contains($real_object_types, lower(coalesce(object_type, ''))),
    server,
    display_name,
    db_vendor,
    bucket
FROM raw_objects
WHERE job_id = $job_id
QUALIFY row_number() OVER (PARTITION BY object_id ORDER BY bucket, name) = 1
