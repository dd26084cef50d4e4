-- Intermediate objects collapsed: every path from a column of a real object, through columns of
-- intermediate objects only, to a column of a real object. Chain rule (FORMAT.md §8): a path is
-- fdr when any hop is fdr; between the same two columns, fdd wins when an all-fdd path exists.
-- hops = the shortest path of the winning kind. Only fdd and fdr edges carry data flow here
-- (join, er, ... do not). Paths stop after $max_hops hops (flatten.MAX_HOPS), which also bounds cycles.
-- This is the rule of `domain.end_to_end` (and `domain.chain` / `domain.wins`), which the engine
-- and the renderings use; test_domain asserts the two give the same edges on a job.
-- clause_type = the clause of the first fdr hop of a winning fdr path (WHERE, JOIN, GROUP BY...);
-- function = the first function met on a winning path: what OpenLineage's subtypes are read from.
WITH RECURSIVE edges AS (
    SELECT
        coalesce(source_object_id, source_object) AS from_object_key,
        coalesce(source_column_id, source_column) AS from_column_key,
        coalesce(target_object_id, target_object) AS to_object_key,
        coalesce(target_column_id, target_column) AS to_column_key,
        source_object, source_column, target_object, target_column,
        source_is_intermediate, target_is_intermediate,
        lower(relationship_type) = 'fdd' AS is_fdd,
        CASE WHEN lower(relationship_type) = 'fdr' THEN clause_type END AS fdr_clause,
        "function"
    FROM column_edges
    WHERE job_id = $job_id AND lower(relationship_type) IN ('fdd', 'fdr')
), paths AS (
    SELECT
        source_object, source_column,
        to_object_key AS object_key, to_column_key AS column_key,
        target_object AS object_name, target_column AS column_name,
        target_is_intermediate AS is_intermediate, is_fdd AS all_fdd, 1 AS hops,
        fdr_clause AS clause, "function" AS func
    FROM edges
    WHERE NOT source_is_intermediate
    UNION
    SELECT
        p.source_object, p.source_column,
        e.to_object_key, e.to_column_key,
        e.target_object, e.target_column,
        e.target_is_intermediate, p.all_fdd AND e.is_fdd, p.hops + 1,
        coalesce(p.clause, e.fdr_clause), coalesce(p.func, e."function")
    FROM paths AS p
    JOIN edges AS e ON e.from_object_key = p.object_key AND e.from_column_key = p.column_key
    WHERE p.is_intermediate AND p.hops < $max_hops
)
SELECT
    $job_id,
    source_object,
    source_column,
    object_name,
    column_name,
    CASE WHEN bool_or(all_fdd) THEN 'fdd' ELSE 'fdr' END,
    coalesce(min(hops) FILTER (WHERE all_fdd), min(hops)),
    CASE WHEN NOT bool_or(all_fdd) THEN min(clause) END,
    coalesce(min(func) FILTER (WHERE all_fdd), min(func))
FROM paths
WHERE NOT is_intermediate
GROUP BY source_object, source_column, object_name, column_name
