"""Local SQL column-lineage engine producing SQLFlow-shaped lineage JSON (plain Python + sqlglot).

Pipeline per job: `parsing` (one tokenize per file, statements split outside BEGIN..END, routine
bodies split into their statements, each parsed alone) -> `dispatch` (classify, process object,
limits, errors) -> `statements` + `rewrite` (the statement's query, or a stand-in SELECT for
UPDATE/DELETE/MERGE; one qualify per query against the `catalog` of known tables, keyed by schema
and table, degrading per column) -> `scopes` (one walk over sqlglot scopes adding
fdd/fdr/join edges to the `graph`; `refs` finds what an expression reads) -> `collapse` (chain
rule for simpleOutput/ignoreRecordSet, tableToTable) -> `emit` (nested SQLFlow JSON).
`summary` computes `data.summary`; `vendors` maps dbvendor names to sqlglot dialects; `model`,
`context` and `coords` hold the shared types.
"""

from .analyze import analyze
from .model import AnalysisOptions, SqlFile
from .summary import summarize
from sqlflow_assets.api.vendors import SUPPORTED_VENDORS, dialect_for

__all__ = [
    "SUPPORTED_VENDORS",
    "AnalysisOptions",
    "SqlFile",
    "analyze",
    "dialect_for",
    "summarize",
]
