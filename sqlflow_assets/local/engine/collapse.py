"""Chain rule (FORMAT.md §8): collapse intermediates into end-to-end edges.

A path is fdr if any hop is fdr; when several paths join the same pair, an all-fdd path wins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from .graph import Graph
from .model import DbObject, Edge, Endpoint

NodeKey = tuple[str, str]
# source node -> (type, clause, effect) of the best path from it
Upstream = dict[NodeKey, tuple[str, str | None, str | None]]


def combine(first: str, second: str) -> str:
    return "fdd" if first == "fdd" and second == "fdd" else "fdr"


def merge_into(best: Upstream, key: NodeKey, value: tuple[str, str | None, str | None]) -> None:
    """Keep the fdd path when a pair is reached by several paths."""
    current = best.get(key)
    if current is None or (current[0] != "fdd" and value[0] == "fdd"):
        best[key] = value


class Collapser:
    """Computes, per kept target column, the kept source columns reachable through dropped objects."""

    def __init__(self, graph: Graph, keep: Callable[[DbObject], bool]) -> None:
        self.graph = graph
        self.keep = keep
        self.incoming: dict[NodeKey, list[Edge]] = defaultdict(list)
        for edge in graph.edges:
            if edge.type in ("fdd", "fdr"):
                self.incoming[(edge.target.obj_id, edge.target.col_id)].append(edge)
        self.memo: dict[NodeKey, Upstream] = {}

    def kept(self, obj_id: str) -> bool:
        return self.keep(self.graph.objects[obj_id])

    def upstream(self, node: NodeKey) -> Upstream:
        """Best path type from every kept source into `node` (a dropped intermediate column)."""
        if node in self.memo:
            return self.memo[node]
        self.memo[node] = {}  # cycle guard for recursive CTEs
        best: Upstream = {}
        for edge in self.incoming.get(node, ()):
            self.extend(best, edge)
        self.memo[node] = best
        return best

    def extend(self, best: Upstream, edge: Edge) -> None:
        source = (edge.source.obj_id, edge.source.col_id)
        if self.kept(source[0]):
            merge_into(best, source, (edge.type, edge.source.clause, edge.effect))
            return
        for key, (rel_type, clause, effect) in self.upstream(source).items():
            merge_into(best, key, (combine(rel_type, edge.type), clause or edge.source.clause, edge.effect or effect))

    def edges(self) -> Iterable[Edge]:
        """End-to-end edges between kept objects, carrying the last hop's process."""
        for node, edges in self.incoming.items():
            if not self.kept(node[0]):
                continue
            best: Upstream = {}
            for edge in edges:
                self.extend(best, edge)
            target = Endpoint(*node)
            for (obj_id, col_id), (rel_type, clause, effect) in best.items():
                source = Endpoint(obj_id, col_id, clause if rel_type == "fdr" else None)
                yield Edge(rel_type, source, target, effect, edges[-1].process_id)


def collapse(graph: Graph, keep: Callable[[DbObject], bool]) -> list[Edge]:
    return list(dict.fromkeys(Collapser(graph, keep).edges()))


def to_table_level(graph: Graph, edges: Iterable[Edge]) -> list[Edge]:
    """One PseudoRows -> PseudoRows edge per (source table, target table); fdd wins."""
    best: dict[tuple[str, str], Edge] = {}
    for edge in edges:
        if edge.source.obj_id == edge.target.obj_id:
            continue
        source_obj = graph.objects[edge.source.obj_id]
        target_obj = graph.objects[edge.target.obj_id]
        table_edge = Edge(
            edge.type,
            Endpoint(source_obj.id, graph.pseudo(source_obj).id),
            Endpoint(target_obj.id, graph.pseudo(target_obj).id),
            edge.effect,
            edge.process_id,
        )
        key = (source_obj.id, target_obj.id)
        if key not in best or (best[key].type != "fdd" and edge.type == "fdd"):
            best[key] = table_edge
    return list(best.values())
