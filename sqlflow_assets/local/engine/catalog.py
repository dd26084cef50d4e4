"""Known table columns: job metadata plus tables/views created by earlier statements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.schema import MappingSchema

from .model import Metadata


def normalize_name(dialect: Dialect, name: str) -> str:
    """Case-normalise one identifier the way qualify() does, so catalog keys match the tree."""
    return dialect.normalize_identifier(exp.to_identifier(name)).name


@dataclass
class Catalog:
    """Columns per bare (unqualified, normalised) table name, in declaration order.

    Keyed by bare name because sqlglot's MappingSchema needs one nesting depth for all tables.
    """

    dialect: Dialect
    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    _schema: MappingSchema | None = None

    @classmethod
    def from_metadata(cls, dialect: Dialect, metadata: Metadata | None) -> Catalog:
        catalog = cls(dialect)
        for table, columns in metadata or ():
            catalog.add(table.split(".")[-1], columns, normalize=True)
        return catalog

    def add(self, table: str, columns: Iterable[tuple[str, str]], normalize: bool = False) -> None:
        """Record (or replace) a table's columns; names are normalised when they come raw."""
        if normalize:
            table = normalize_name(self.dialect, table)
            columns = [(normalize_name(self.dialect, c), t) for c, t in columns]
        self.tables[table] = dict(columns)
        if self._schema is not None:
            self._schema.add_table(
                exp.Table(this=exp.to_identifier(table)), self.typed(table), normalize=False
            )

    def columns(self, table: str) -> list[str] | None:
        cols = self.tables.get(table)
        return list(cols) if cols is not None else None

    def data_type(self, table: str, column: str) -> str | None:
        return self.tables.get(table, {}).get(column)

    def typed(self, table: str) -> dict[str, str]:
        """Column -> type for MappingSchema, which needs a type string for every column."""
        return {column: kind or "UNKNOWN" for column, kind in self.tables[table].items()}

    def schema(self) -> MappingSchema:
        """MappingSchema for qualify(), built once and then extended table by table."""
        if self._schema is None:
            self._schema = MappingSchema(
                {table: self.typed(table) for table in self.tables}, dialect=self.dialect, normalize=False
            )
        return self._schema
