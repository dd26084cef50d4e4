"""Local SQL column-lineage engine producing SQLFlow-shaped lineage JSON (plain Python + sqlglot)."""

from .analyze import analyze
from .model import AnalysisOptions, SqlFile
from .summary import summarize
from .vendors import SUPPORTED_VENDORS, UnknownVendorError, dialect_for

__all__ = [
    "SUPPORTED_VENDORS",
    "AnalysisOptions",
    "SqlFile",
    "UnknownVendorError",
    "analyze",
    "dialect_for",
    "summarize",
]
