"""Mutable builder for the lineage graph of one analysis (ids, objects, edges, processes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import (
    PSEUDO_COLUMN,
    Column,
    Coordinates,
    DbObject,
    Edge,
    Endpoint,
    ErrorInfo,
    Process,
)

TableKey = tuple[str, str, str]


@dataclass
class Graph:
    """Everything one `analyze` call produces; ids are digit strings unique within it."""

    default_database: str
    default_schema: str
    objects: dict[str, DbObject] = field(default_factory=dict)
    tables: dict[TableKey, DbObject] = field(default_factory=dict)
    edges: dict[Edge, None] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    errors: list[ErrorInfo] = field(default_factory=list)
    _next_id: int = 0
    _counters: dict[str, int] = field(default_factory=dict)
    table_reads: int = 0  # link() calls from a table or view column (a statement's lineage)

    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def next_number(self, kind: str) -> int:
        """1-based counter per synthetic name kind (`RS`, `Query Insert`, ...)."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return self._counters[kind]

    def table(self, key: TableKey, display_name: str, obj_type: str = "table") -> DbObject:
        """The table/view object for a normalised (database, schema, name) key, created once."""
        obj = self.tables.get(key)
        if obj is None:
            obj = DbObject(self.new_id(), key[2], display_name, obj_type, key[0], key[1])
            self.tables[key] = obj
            self.objects[obj.id] = obj
        elif obj_type == "view":
            obj.type = "view"
        return obj

    def intermediate(self, prefix: str, obj_type: str, top_level: bool = False) -> DbObject:
        """A new synthetic object named `<prefix>-n` (docs/sqlflow-format.md §4)."""
        return self.synthetic(f"{prefix}-{self.next_number(prefix)}", obj_type, top_level)

    def synthetic(self, name: str, obj_type: str, top_level: bool = False) -> DbObject:
        """A new object that lives in the default database/schema (result sets, functions)."""
        obj = DbObject(
            self.new_id(),
            name,
            name,
            obj_type,
            self.default_database,
            self.default_schema,
            top_level=top_level,
        )
        self.objects[obj.id] = obj
        return obj

    def column(self, obj: DbObject, name: str, coordinates: Coordinates | None = None) -> Column:
        """Get or create a column of `obj`, appending any new occurrence coordinates."""
        col = obj.columns.get(name)
        if col is None:
            col = Column(self.new_id(), name)
            obj.columns[name] = col
        if coordinates:
            col.coordinates.extend(coordinates)
        return col

    def pseudo(self, obj: DbObject) -> Column:
        """The `PseudoRows` system column that carries row-count (fdr) relations."""
        col = obj.columns.get(PSEUDO_COLUMN)
        if col is None:
            col = Column(self.new_id(), PSEUDO_COLUMN, system=True)
            obj.columns[PSEUDO_COLUMN] = col
        return col

    def add_edge(self, edge: Edge) -> None:
        self.edges.setdefault(edge, None)

    def link(
        self,
        rel_type: str,
        source: tuple[DbObject, Column],
        target: tuple[DbObject, Column],
        effect: str | None,
        process_id: str | None,
        clause: str | None = None,
        function: str | None = None,
    ) -> None:
        """Add one column -> column edge."""
        self.table_reads += source[0].persistent
        self.add_edge(
            Edge(
                rel_type,
                Endpoint(source[0].id, source[1].id, clause),
                Endpoint(target[0].id, target[1].id),
                effect,
                process_id,
                function,
            )
        )
