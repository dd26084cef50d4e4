-- Table-level lineage between real objects (tables, views): the end-to-end column edges of the job
-- counted per object pair and relationship type, so result sets and CTEs never show up here.
SELECT $job_id, source_object, target_object, relationship_type, count(*)
FROM end_to_end_edges
WHERE job_id = $job_id AND source_object IS DISTINCT FROM target_object
GROUP BY source_object, target_object, relationship_type
