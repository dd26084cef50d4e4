-- Column edges between two different objects, counted per object pair and relationship type.
SELECT $job_id, source_object, target_object, relationship_type, count(*)
FROM {out_column_edges}
WHERE job_id = $job_id AND source_object IS DISTINCT FROM target_object
GROUP BY source_object, target_object, relationship_type
