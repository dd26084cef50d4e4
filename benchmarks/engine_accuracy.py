"""Accuracy of the local lineage engine against the TPC-H / TPC-DS truth (committed corpora).

For each corpus query (the INPUT of each fixture pair, with schema.json as table metadata) the
engine output is collapsed to end-to-end edges (ignoreRecordSet keeps the top-level result set):
  * fdd: (output column, base table, base column) compared to truth `columns[i].sources`;
  * fdr: base columns with an fdr edge into the result set compared to truth `filter_columns`.

    python benchmarks/engine_accuracy.py [--corpora PATH] [--subset]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, whatever is installed

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze  # noqa: E402

# committed copy of ../shared/corpora, so the gate runs on a bare clone (see its README.md)
DEFAULT_CORPORA = REPO / "sqlflow_assets_tests" / "local" / "corpora"
CORPORA = (("tpch", "tpc-h.sql"), ("tpcds", "tpc-ds.sql"))
SUBSET = 8  # queries per corpus with --subset
VENDOR = "dbvansi"  # sqlglot's default dialect, the one the fixtures are written in


@dataclass(frozen=True)
class Query:
    title: str
    sql: str
    truth: dict


def fixture_inputs(path: Path) -> list[tuple[dict[str, str], str]]:
    """(meta, sql) of each input statement of a fixture file: drop `--` lines, split on `;`,
    keep every other statement, and peel its leading `# key: value` meta lines."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("--"))
    statements = [s.strip() for s in text.split(";") if s.strip()]
    inputs = []
    for statement in statements[0::2]:
        lines = statement.splitlines()
        meta = {}
        while lines and lines[0].startswith("#"):
            key, _, value = lines.pop(0).lstrip("#").partition(":")
            meta[key.strip()] = value.strip()
        inputs.append((meta, "\n".join(lines).strip()))
    return inputs


def load_corpus(corpora: Path, name: str, sql_file: str) -> tuple[list[Query], dict]:
    truth = json.loads((corpora / name / "truth.json").read_text())["queries"]
    schema = json.loads((corpora / name / "schema.json").read_text())
    inputs = fixture_inputs(corpora / name / sql_file)
    return [Query(t["title"], sql, t) for (_, sql), t in zip(inputs, truth, strict=True)], schema


def run_engine(query: Query, schema: dict) -> dict:
    options = AnalysisOptions(show_relation_type=("fdd", "fdr"), ignore_record_set=True, metadata=schema)
    return analyze([SqlFile(query.title, query.sql)], VENDOR, options)


def table_ids(result: dict) -> dict[str, str]:
    """id -> name of every table object in a result."""
    return {
        obj["id"]: obj["name"]
        for server in result["dbobjs"]["servers"]
        for database in server["databases"]
        for schema in database["schemas"]
        for obj in schema["tables"]
    }


def end_to_end(result: dict) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    """(output column, table, column) fdd triples and fdr (table, column) sources of the result set."""
    tables = table_ids(result)
    fdd, fdr = set(), set()
    for rel in result["relationships"]:
        if rel["target"]["parentId"] in tables:
            continue
        for source in rel["sources"]:
            if source["parentId"] not in tables or source["column"] == "PseudoRows":
                continue
            pair = (tables[source["parentId"]], source["column"])
            if rel["type"] == "fdd":
                fdd.add((rel["target"]["column"], *pair))
            else:
                fdr.add(pair)
    return fdd, fdr


def truth_to_engine_names(truth_names: list[str], result: dict) -> dict[str, str]:
    """Truth output names -> the engine's, by position: the truth calls unaliased expressions
    `_col_n` (sqlglot), the engine names them by their SQL text (SQLFlow)."""
    top = next(
        (
            obj
            for server in result["dbobjs"]["servers"]
            for database in server["databases"]
            for schema in database["schemas"]
            for obj in schema["others"]
            if obj["name"] == "RS-1"
        ),
        {"columns": []},
    )
    engine_names = [c["name"] for c in top["columns"] if c["name"] != "PseudoRows"]
    return dict(zip(dict.fromkeys(truth_names), engine_names, strict=False))


@dataclass
class Score:
    true_pos: int = 0
    found: int = 0
    expected: int = 0
    fdr_hit: int = 0
    fdr_expected: int = 0
    errored: int = 0

    def add(self, query: Query, result: dict) -> list[str]:
        """Accumulate one query; returns human-readable differences."""
        fdd, fdr = end_to_end(result)
        names = truth_to_engine_names(query.truth["output_columns"], result)
        truth = {(names.get(c["name"]), t, col) for c in query.truth["columns"] for t, col in c["sources"]}
        truth_fdr = {tuple(p) for p in query.truth["filter_columns"]}
        self.true_pos += len(fdd & truth)
        self.found += len(fdd)
        self.expected += len(truth)
        self.fdr_hit += len(fdr & truth_fdr)
        self.fdr_expected += len(truth_fdr)
        self.errored += bool(result["errors"])
        diffs = [f"extra fdd {x}" for x in sorted(fdd - truth)] + [
            f"missing fdd {x}" for x in sorted(truth - fdd)
        ]
        diffs += [f"missing fdr {x}" for x in sorted(truth_fdr - fdr)]
        diffs += [f"error {e['errorType']}: {e['errorMessage']}" for e in result["errors"]]
        return diffs

    @property
    def precision(self) -> float:
        return self.true_pos / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_pos / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def fdr_recall(self) -> float:
        return self.fdr_hit / self.fdr_expected if self.fdr_expected else 1.0

    def line(self, name: str, count: int, seconds: float) -> str:
        return (
            f"{name}: queries={count} fdd precision={self.precision:.4f} recall={self.recall:.4f} "
            f"f1={self.f1:.4f} fdr recall={self.fdr_recall:.4f} queries_with_errors={self.errored} "
            f"time={seconds:.2f}s"
        )


def evaluate(queries: list[Query], schema: dict, verbose: bool = False) -> Score:
    """Score every query, printing its differences when `verbose`."""
    score = Score()
    for query in queries:
        diffs = score.add(query, run_engine(query, schema))
        if verbose and diffs:
            print(f"  {query.title}:", *diffs, sep="\n    ")
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--subset", action="store_true", help=f"first {SUBSET} queries per corpus")
    parser.add_argument("--verbose", action="store_true", help="print per-query differences")
    args = parser.parse_args(argv)
    for name, sql_file in CORPORA:
        queries, schema = load_corpus(args.corpora, name, sql_file)
        queries = queries[:SUBSET] if args.subset else queries
        started = time.perf_counter()
        score = evaluate(queries, schema, args.verbose)
        print(score.line(name, len(queries), time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
