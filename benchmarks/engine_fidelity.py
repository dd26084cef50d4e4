"""Fidelity of the local lineage engine on the SQL people actually write (GitHub issue #10).

Runs the hand-written corpus `sqlflow_assets_tests/local/corpora/fidelity/cases.sql`: each case
names its shape, statement kind and dbvendor and lists the exact end-to-end edges expected
(ignoreRecordSet, fdd and fdr). Prints recall and precision per shape and per statement kind;
exits 1 when a shape falls below its floor in FLOORS.

    python benchmarks/engine_fidelity.py [--cases PATH] [--verbose]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, whatever is installed

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze  # noqa: E402

DEFAULT_CASES = REPO / "sqlflow_assets_tests" / "local" / "corpora" / "fidelity" / "cases.sql"
OPTIONS = AnalysisOptions(show_relation_type=("fdd", "fdr"), ignore_record_set=True)
# (recall, precision) every shape must keep; the gate in test_engine_fidelity.py
FLOORS: dict[str, tuple[float, float]] = {
    shape: (1.0, 1.0)
    for shape in (
        "parenthesised",
        "star_passthrough",
        "per_column",
        "update",
        "insert_all",
        "foreign_key",
        "procedure",
        "column_names",
        "schemas",
        "statement",
    )
}
Triple = tuple[str, str, str]
HEADER = re.compile(r"^-- (\w+): (.*)$")
EDGE = re.compile(r"^(\S+) -> (\S+) (fdd|fdr)$")


@dataclass(frozen=True)
class Case:
    name: str
    shape: str
    kind: str
    vendor: str
    edges: frozenset[Triple]
    sql: str


def parse_case(block: str) -> Case:
    """One `-- case:` block: header lines, then the SQL."""
    meta: dict[str, str] = {}
    edges: set[Triple] = set()
    sql_lines = []
    for line in block.strip().splitlines():
        header = HEADER.match(line)
        if header is None:
            sql_lines.append(line)
        elif header.group(1) == "edge":
            match = EDGE.match(header.group(2).strip())
            if match is None:
                raise ValueError(f"bad edge line: {line}")
            edges.add(normalised(match.groups()))
        else:
            meta[header.group(1)] = header.group(2).strip()
    sql = "\n".join(sql_lines)
    return Case(meta["case"], meta["shape"], meta["kind"], meta["vendor"], frozenset(edges), sql)


def load_cases(path: Path) -> list[Case]:
    """Every case of a corpus file (text before the first `-- case:` is its preamble)."""
    blocks = re.split(r"^(?=-- case: )", path.read_text(), flags=re.MULTILINE)
    return [parse_case(block) for block in blocks if block.startswith("-- case: ")]


def normalised(edge: Iterable[str]) -> Triple:
    """Names compared case-insensitively (Oracle and Snowflake upper-case unquoted names)."""
    source, target, rel_type = edge
    return source.lower(), target.lower(), rel_type


def found_edges(case: Case) -> set[Triple]:
    """End-to-end (source parent.column, target parent.column, type) of the engine's result."""
    result = analyze([SqlFile(f"{case.name}.sql", case.sql)], case.vendor, OPTIONS)
    return {
        normalised(
            (
                f"{source['parentName']}.{source['column']}",
                f"{rel['target']['parentName']}.{rel['target']['column']}",
                rel["type"],
            )
        )
        for rel in result["relationships"]
        for source in rel["sources"]
    }


def fraction(part: int, whole: int) -> float:
    """part / whole, 1.0 for nothing expected (or nothing found: no wrong edge)."""
    return part / whole if whole else 1.0


@dataclass
class Tally:
    """Edge counts over a group of cases, and the edges that made it short."""

    misses: list[str] = field(default_factory=list)
    cases: int = 0
    hit: int = 0
    found: int = 0
    expected: int = 0

    def add(self, case: Case, found: set[Triple]) -> None:
        self.hit += len(found & case.edges)
        self.found += len(found)
        self.expected += len(case.edges)
        self.cases += 1
        self.misses += [f"{case.name}: missing {e}" for e in sorted(case.edges - found)]
        self.misses += [f"{case.name}: extra {e}" for e in sorted(found - case.edges)]

    @property
    def recall(self) -> float:
        return fraction(self.hit, self.expected)

    @property
    def precision(self) -> float:
        return fraction(self.hit, self.found)

    def line(self, name: str) -> str:
        return f"{name}: cases={self.cases} recall={self.recall:.4f} precision={self.precision:.4f}"


def evaluate(cases: list[Case]) -> tuple[dict[str, Tally], dict[str, Tally]]:
    """Tallies per shape and per statement kind."""
    shapes: dict[str, Tally] = defaultdict(Tally)
    kinds: dict[str, Tally] = defaultdict(Tally)
    for case in cases:
        found = found_edges(case)
        shapes[case.shape].add(case, found)
        kinds[case.kind].add(case, found)
    return dict(shapes), dict(kinds)


def below_floor(shapes: dict[str, Tally]) -> list[str]:
    """Shapes whose recall or precision fell below FLOORS (a missing shape counts as below)."""
    failing = []
    for shape, (recall, precision) in FLOORS.items():
        tally = shapes.get(shape)
        if tally is None or tally.recall < recall or tally.precision < precision:
            failing.append(shape)
    return failing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--verbose", action="store_true", help="print every missing / extra edge")
    args = parser.parse_args(argv)
    shapes, kinds = evaluate(load_cases(args.cases))
    print("per shape:")
    for name, tally in shapes.items():
        print("  " + tally.line(name))
        if args.verbose:
            print(*(f"    {m}" for m in tally.misses), sep="\n") if tally.misses else None
    print("per statement kind:")
    for name, tally in kinds.items():
        print("  " + tally.line(name))
    failing = below_floor(shapes)
    if failing:
        print(f"below floor: {', '.join(failing)}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
