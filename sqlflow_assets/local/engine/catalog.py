"""Known table columns: job metadata plus tables/views created by earlier statements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.schema import MappingSchema

from .model import DbObject, Metadata

# (schema, table), normalised; an unqualified table is in the job's default schema
TableName = tuple[str, str]


def normalize_name(dialect: Dialect, name: str) -> str:
    """Case-normalise one identifier the way qualify() does, so catalog keys match the tree."""
    return normalized(type(dialect), name)


@lru_cache(maxsize=1 << 16)
def normalized(dialect: type[Dialect], name: str) -> str:
    """Memoised per dialect (engine dialects carry no settings): the metadata of every job is
    normalised again, and building an identifier per column was ~3 ms of a TPC-DS query."""
    return dialect().normalize_identifier(exp.to_identifier(name)).name


@dataclass
class Catalog:
    """Columns per (schema, table), in declaration order.

    Keyed by schema too, so `x.t` and `y.t` keep separate column lists. A reference finds its
    own schema's table, else the unqualified one; an unqualified reference finds the default
    schema's table, else the only table of that name in any schema (several are ambiguous).
    """

    dialect: Dialect
    default_schema: str
    tables: dict[TableName, dict[str, str]] = field(default_factory=dict)
    _schema: CatalogSchema | None = None
    _typed: dict[TableName, dict[str, str]] = field(default_factory=dict)
    _schemas_of: dict[str, set[str]] = field(default_factory=dict)  # table -> schemas having it

    @classmethod
    def from_metadata(cls, dialect: Dialect, metadata: Metadata | None, default_schema: str) -> Catalog:
        """`db.schema.table` names keep their schema; a bare name is in the default schema."""
        catalog = cls(dialect, default_schema)
        for table, columns in metadata or ():
            parts = [normalize_name(dialect, p) for p in table.split(".")]
            schema = parts[-2] if len(parts) > 1 else default_schema
            catalog.add((schema, parts[-1]), [(normalize_name(dialect, c), t) for c, t in columns])
        return catalog

    @staticmethod
    def name_of(obj: DbObject) -> TableName:
        return obj.schema, obj.name

    def lookup(self, name: TableName) -> TableName | None:
        """The known table a reference names (see the class docstring), or None."""
        if name in self.tables:
            return name
        schema, table = name
        if schema != self.default_schema:
            unqualified = (self.default_schema, table)
            return unqualified if unqualified in self.tables else None
        schemas = self._schemas_of.get(table, set())
        return (next(iter(schemas)), table) if len(schemas) == 1 else None

    def add(self, name: TableName, columns: Iterable[tuple[str, str]]) -> None:
        """Record (or replace) a table's columns."""
        self.tables[name] = dict(columns)
        self._typed.pop(name, None)
        self._schemas_of.setdefault(name[1], set()).add(name[0])

    def known(self, name: TableName) -> dict[str, str] | None:
        key = self.lookup(name)
        return self.tables[key] if key is not None else None

    def columns(self, name: TableName) -> list[str] | None:
        known = self.known(name)
        return list(known) if known is not None else None

    def data_type(self, name: TableName, column: str) -> str | None:
        return (self.known(name) or {}).get(column)

    def typed(self, name: TableName) -> dict[str, str] | None:
        """Column -> type of the table a reference names, for qualify() (MappingSchema needs a
        type string for every column); computed once per table version."""
        key = self.lookup(name)
        if key is None:
            return None
        if key not in self._typed:
            self._typed[key] = {column: kind or "UNKNOWN" for column, kind in self.tables[key].items()}
        return self._typed[key]

    def schema(self) -> CatalogSchema:
        """The schema qualify() reads, which looks tables up through this catalog."""
        if self._schema is None:
            self._schema = CatalogSchema(self)
        return self._schema


class CatalogSchema(MappingSchema):
    """A sqlglot schema answering from the catalog: MappingSchema needs one nesting depth for
    every table, and would merge or refuse same-named tables of different schemas."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog  # first: MappingSchema's constructor already asks `empty`
        super().__init__(dialect=catalog.dialect, normalize=False)

    @property
    def empty(self) -> bool:
        """No table known: only then does qualify_columns infer columns from the query and
        expand alias references early (MappingSchema answers from its own, unused, mapping)."""
        return not self.catalog.tables

    def find(
        self, table: exp.Table, raise_on_missing: bool = True, ensure_data_types: bool = False
    ) -> dict[str, str] | None:
        return self.catalog.typed((table.db or self.catalog.default_schema, table.name))
