"""Local SQL column-lineage engine producing SQLFlow-shaped lineage JSON (plain Python + sqlglot).

Pipeline per job: `parsing` (one tokenize per file, statements split outside BEGIN..END, routine
bodies split into their statements, each parsed alone; what does not parse whole goes through
`recovery`, which finds the lineage-bearing statements inside it, the rest becoming a
SyntaxWarning) -> `dispatch` (classify, `rewrite.canonical` forms, process object, limits,
errors; a statement reading a table that yields no lineage gets a LineageWarning) -> `statements` + `rewrite` (the statement's query, or a stand-in SELECT for
UPDATE/DELETE/MERGE; one qualify per query against the `catalog` of known tables, keyed by schema
and table, degrading per column) -> `scopes` (one walk over sqlglot scopes adding
fdd/fdr/join edges to the `graph`; `refs` finds what an expression reads) -> `collapse` (chain
rule for simpleOutput/ignoreRecordSet, tableToTable) -> `emit` (nested SQLFlow JSON).
`summary` computes `data.summary`; `vendors` maps dbvendor names to sqlglot dialects; `model`,
`context` and `coords` hold the shared types.
"""

from sqlflow_assets.api.vendors import SUPPORTED_VENDORS, dialect_for

from .analyze import analyze
from .model import AnalysisOptions, SqlFile
from .summary import summarize

__all__ = [
    "SUPPORTED_VENDORS",
    "AnalysisOptions",
    "SqlFile",
    "analyze",
    "dialect_for",
    "summarize",
]
