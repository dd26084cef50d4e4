"""Per-statement context shared by the scope walker and the statement handlers."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlglot import exp

from sqlflow_assets.errors import StatementTimeout

from .coords import Locator
from .graph_builder import Graph
from .model import Coordinates, DbObject, ErrorInfo


def expire(signum: int, frame: object) -> None:
    raise StatementTimeout()


@contextmanager
def hard_time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` with SIGALRM, which can stop sqlglot mid-qualify.

    Only possible on the main thread and when no other interval timer is running; elsewhere
    the cooperative StatementContext.check_time calls between analysis steps are the limit.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        yield
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class StatementContext:
    """Where a statement lives and which process its edges belong to."""

    graph: Graph
    locator: Locator
    file_name: str
    coordinates: Coordinates
    process_id: str | None = None
    show_constants: bool = False
    deadline: float = float("inf")
    pseudocolumns: frozenset[str] = frozenset()  # dialect's ROWNUM, LEVEL, _PARTITIONTIME, ...
    text: str = ""  # the statement's SQL, starting at file offset `offset`
    offset: int = 0

    def written(self, node: exp.Expr) -> str | None:
        """A positioned token node (an identifier, a function's name) as written in the SQL."""
        meta = node.meta
        if "start" not in meta:
            return None
        return self.text[meta["start"] - self.offset : meta["end"] - self.offset + 1] or None

    def check_time(self) -> None:
        """Cooperative per-statement time limit, checked between analysis steps."""
        if time.monotonic() > self.deadline:
            raise StatementTimeout()

    def error(self, message: str, error_type: str, node: exp.Expr | None = None) -> None:
        """Record an error at `node` (or at the whole statement when it has no position)."""
        coords = self.locator.of_node(node) if node is not None else []
        self.graph.errors.append(ErrorInfo(message, error_type, coords or self.coordinates, self.file_name))

    def table(self, table: exp.Table, obj_type: str = "table", located: bool = True) -> DbObject:
        """Graph object for a table reference, keyed by its normalised qualified name.

        `located` adds this reference's position to the object's coordinates.
        """
        graph = self.graph
        key = (
            table.catalog or graph.default_database,
            table.db or graph.default_schema,
            table.name,
        )
        # T-SQL `#tmp` parses as a temporary identifier `tmp`; SQLFlow shows it as written
        temporary = isinstance(table.this, exp.Identifier) and table.this.args.get("temporary")
        name = f"#{table.name}" if temporary else table.name
        display = ".".join(p for p in (table.catalog, table.db, name) if p)
        obj = graph.table(key, display, obj_type)
        if located:
            obj.coordinates.extend(self.locator.of_node(table))
        return obj
