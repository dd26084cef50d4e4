"""Public input types and the internal lineage graph the analysis builds before emitting JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlflow_assets.domain import is_real

PSEUDO_COLUMN = "PseudoRows"

Coordinates = list[dict[str, object]]
TableColumns = tuple[tuple[str, str], ...]
Metadata = tuple[tuple[str, TableColumns], ...]
MetadataInput = Mapping[str, Mapping[str, str]] | Iterable[tuple[str, Iterable[tuple[str, str]]]]


@dataclass(frozen=True)
class SqlFile:
    """One SQL text of a job; `name` is reported in errors."""

    name: str
    text: str


def pairs(items: Mapping | Iterable) -> Iterable:
    return items.items() if isinstance(items, Mapping) else items


def freeze_metadata(metadata: MetadataInput | None) -> Metadata | None:
    """Table metadata as nested (name, value) tuples: immutable, hashable, and it survives a
    dataclasses.asdict / JSON round trip (lists of pairs are accepted back)."""
    if metadata is None:
        return None
    return tuple(
        (str(table), tuple((str(column), str(kind)) for column, kind in pairs(columns)))
        for table, columns in pairs(metadata)
    )


@dataclass(frozen=True)
class AnalysisOptions:
    """SQLFlow analysis options (docs/sqlflow-api.md §0).

    `metadata` gives the columns of tables the job reads without creating them: a mapping
    `{table: {column: type}}` or pairs `((table, ((column, type), ...)), ...)`; it is stored as
    the nested-tuple form. A table name may be qualified (`db.schema.table`); only its last
    part is used for lookup.
    """

    show_relation_type: tuple[str, ...] = ("fdd",)
    simple_output: bool = False
    ignore_record_set: bool = False
    ignore_function: bool = False
    show_constant_table: bool = False
    table_to_table: bool = False
    default_database: str | None = None
    default_schema: str | None = None
    metadata: MetadataInput | None = None  # stored as Metadata (nested tuples)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metadata", freeze_metadata(self.metadata))
        object.__setattr__(self, "show_relation_type", tuple(self.show_relation_type))


@dataclass(eq=False)
class Column:
    """A column of a graph object; mutable only while the graph is built (coordinates grow).

    Identity semantics (eq=False): two columns are the same only if they are the same node.
    """

    id: str
    name: str
    coordinates: Coordinates = field(default_factory=list)
    system: bool = False
    data_type: str | None = None


@dataclass(eq=False)
class DbObject:
    """A table, view, intermediate result set or function node of the graph."""

    id: str
    name: str
    display_name: str
    type: str
    database: str
    schema: str
    columns: dict[str, Column] = field(default_factory=dict)
    coordinates: Coordinates = field(default_factory=list)
    top_level: bool = False

    @property
    def persistent(self) -> bool:
        """A real object (`domain.REAL_KINDS`), kept when intermediates are collapsed."""
        return is_real(self.type)


@dataclass(frozen=True)
class Endpoint:
    """One column end of an edge; `clause` is the fdr clauseType of a source."""

    obj_id: str
    col_id: str
    clause: str | None = None


@dataclass(frozen=True)
class Edge:
    """A single source -> target column relation."""

    type: str
    source: Endpoint
    target: Endpoint
    effect: str | None
    process_id: str | None = None
    function: str | None = None


@dataclass(frozen=True)
class Process:
    """One analysed statement (docs/sqlflow-format.md §3 process object)."""

    id: str
    name: str
    type: str
    query_hash: str
    coordinates: Coordinates
    database: str
    schema: str
    procedure: str


@dataclass(frozen=True)
class ErrorInfo:
    """An entry of the `errors` list."""

    message: str
    type: str
    coordinates: Coordinates
    file_name: str

    def to_json(self) -> dict:
        return {
            "errorMessage": self.message,
            "errorType": self.type,
            "coordinates": self.coordinates,
            "fileName": self.file_name,
        }
