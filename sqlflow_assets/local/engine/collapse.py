"""Chain rule (docs/sqlflow-format.md §8): collapse intermediates into end-to-end edges.

A path is fdr if any hop is fdr; when several paths join the same pair, an all-fdd path wins:
`domain.chain` and `domain.wins`, the rule the renderings and the flattening SQL apply too. This
walk also carries each path's clause, effect, process and function, and memoises upstream paths.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlflow_assets.domain import DATA_FLOW_TYPES, chain, wins

from .graph_builder import Graph
from .model import DbObject, Edge, Endpoint

NodeKey = tuple[str, str]


@dataclass(frozen=True)
class Path:
    """Best path from a kept source: its type, first fdr clause, and the last hop's effect,
    process and function (the statement that finally writes the target)."""

    type: str
    clause: str | None
    effect: str | None
    process_id: str | None
    function: str | None

    @staticmethod
    def first(edge: Edge) -> Path:
        """The one-hop path of an edge leaving a kept source."""
        return Path(edge.type, edge.source.clause, edge.effect, edge.process_id, edge.function)

    def then(self, edge: Edge) -> Path:
        """This path continued by `edge` (one hop closer to the target)."""
        return Path(
            chain(self.type, edge.type),
            self.clause or edge.source.clause,
            edge.effect or self.effect,
            edge.process_id or self.process_id,
            edge.function or self.function,
        )


Upstream = dict[NodeKey, Path]


@dataclass
class Frame:
    """A node being expanded by Collapser.upstream, and the edge it waits on."""

    node: NodeKey
    edges: Iterator[Edge]
    waiting: Edge | None = None


def merge_into(best: Upstream, key: NodeKey, path: Path) -> None:
    """Keep the fdd path when a pair is reached by several paths."""
    current = best.get(key)
    if wins(path.type, None if current is None else current.type):
        best[key] = path


class Collapser:
    """Computes, per kept target column, the kept source columns reachable through dropped objects."""

    def __init__(self, graph: Graph, keep: Callable[[DbObject], bool]) -> None:
        self.graph = graph
        self.keep = keep
        self.incoming: dict[NodeKey, list[Edge]] = defaultdict(list)
        for edge in graph.edges:
            if edge.type in DATA_FLOW_TYPES:
                self.incoming[(edge.target.obj_id, edge.target.col_id)].append(edge)
        self.memo: dict[NodeKey, Upstream] = {}

    def kept(self, obj_id: str) -> bool:
        return self.keep(self.graph.objects[obj_id])

    def upstream(self, start: NodeKey) -> Upstream:
        """Best path from every kept source into `start` (a dropped intermediate column).

        Iterative depth-first walk (long CTE chains would overflow Python's stack). Results
        computed while a cycle (recursive CTE) was still open are not memoised, since they
        miss the paths through the open node.
        """
        if start in self.memo:
            return self.memo[start]
        results: dict[NodeKey, Upstream] = {}
        cyclic: dict[NodeKey, bool] = {}
        stack: list[Frame] = []
        open_nodes: set[NodeKey] = set()

        def enter(node: NodeKey) -> None:
            results[node], cyclic[node] = {}, False
            stack.append(Frame(node, iter(self.incoming.get(node, ()))))
            open_nodes.add(node)

        enter(start)
        while stack:
            frame = stack[-1]
            child = self.advance(frame, results[frame.node], cyclic, open_nodes)
            if child is not None:
                enter(child)
                continue
            stack.pop()
            open_nodes.discard(frame.node)
            if not cyclic[frame.node]:
                self.memo[frame.node] = results[frame.node]
            if stack:
                parent = stack[-1]
                assert parent.waiting is not None  # advance() set it when it entered this frame
                cyclic[parent.node] = cyclic[parent.node] or cyclic[frame.node]
                for key, path in results[frame.node].items():
                    merge_into(results[parent.node], key, path.then(parent.waiting))
        return results[start]

    def advance(
        self, frame: Frame, best: Upstream, cyclic: dict[NodeKey, bool], open_nodes: set[NodeKey]
    ) -> NodeKey | None:
        """Fold the frame's incoming edges into `best` until one needs an unvisited source;
        returns that source (the frame then waits on that edge) or None when all are done."""
        for edge in frame.edges:
            source = (edge.source.obj_id, edge.source.col_id)
            if self.kept(source[0]):
                merge_into(best, source, Path.first(edge))
            elif source in self.memo:
                for key, path in self.memo[source].items():
                    merge_into(best, key, path.then(edge))
            elif source in open_nodes:
                cyclic[frame.node] = True
            else:
                frame.waiting = edge
                return source
        return None

    def extend(self, best: Upstream, edge: Edge) -> None:
        source = (edge.source.obj_id, edge.source.col_id)
        if self.kept(source[0]):
            merge_into(best, source, Path.first(edge))
            return
        for key, path in self.upstream(source).items():
            merge_into(best, key, path.then(edge))

    def edges(self) -> Iterable[Edge]:
        """End-to-end edges between kept objects; the chain rule applies per statement and
        write kind, so a column written twice from the same source (two statements, or MERGE's
        update and insert branches) keeps both relations."""
        for node, edges in self.incoming.items():
            if not self.kept(node[0]):
                continue
            by_write: dict[tuple[str | None, str | None], list[Edge]] = defaultdict(list)
            for edge in edges:
                by_write[(edge.process_id, edge.effect)].append(edge)
            target = Endpoint(*node)
            for process_edges in by_write.values():
                best: Upstream = {}
                for edge in process_edges:
                    self.extend(best, edge)
                for (obj_id, col_id), path in best.items():
                    source = Endpoint(obj_id, col_id, path.clause if path.type == "fdr" else None)
                    yield Edge(path.type, source, target, path.effect, path.process_id, path.function)


def collapse(graph: Graph, keep: Callable[[DbObject], bool]) -> list[Edge]:
    """End-to-end fdd/fdr edges between kept objects, plus join edges whose ends are both kept."""
    joins = [
        e
        for e in graph.edges
        if e.type == "join" and keep(graph.objects[e.source.obj_id]) and keep(graph.objects[e.target.obj_id])
    ]
    return list(dict.fromkeys([*Collapser(graph, keep).edges(), *joins]))


def to_table_level(graph: Graph, edges: Iterable[Edge]) -> list[Edge]:
    """One PseudoRows -> PseudoRows edge per (source table, target table); fdd wins."""
    best: dict[tuple[str, str], Edge] = {}
    for edge in edges:
        if edge.source.obj_id == edge.target.obj_id or edge.type == "join":
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
        if wins(edge.type, best[key].type if key in best else None):
            best[key] = table_edge
    return list(best.values())
