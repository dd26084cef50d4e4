"""The README's walk-through ("your own SQL"), executed: every block and command of its section, in order.

The section is read from README.md, so a changed walk-through fails here until this test follows it:
its SQL files are written where the prose says (a folder, and a local git repository committed on
its branch), its TOML becomes the project's `.dlt/config.toml`, and every `.venv/bin/...` command
of its shell blocks and its prose runs as a real process against a real local SQLFlow server of
this test. The UI's *Materialize* of `sqlflow/sql_submission` is the asset materialised in-process,
the sensor's part is `sqlflow_job_sensor` ticked and its runs materialised, and the SQL query runs
on the DuckDB file. `./scripts/start` (a long-running server) is checked by `--help` only.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from markdown_it import MarkdownIt

from sqlflow_assets import config
from sqlflow_assets.defs import assets
from sqlflow_assets.defs.jobs import lineage_job
from sqlflow_assets.defs.partitions import job_id_of
from sqlflow_assets.defs.resources import SQLFlowResource, default_resources
from sqlflow_assets.defs.sensors import sqlflow_job_sensor
from sqlflow_assets.defs.sql_submission import sql_submission
from sqlflow_assets_tests.support import REPO_ROOT, start_local_server, stop_local_server

README = REPO_ROOT / "README.md"
SECTION = "Walk-through: your own SQL"
# the section's blocks, in order: the folder's SQL, the git repository's SQL, the config, submit, the query, impact
SHAPE = ["sql", "sql", "toml", "bash", "sql", "bash"]
USER_ID, SECRET = "walk|1", "walk-secret-0123456789"


@dataclass(frozen=True)
class Part:
    """A fenced block of the section (`language` set) or an inline code span of its prose."""

    language: str | None
    text: str


def section(page: Path = README, title: str = SECTION) -> list[Part]:
    """The section's fences and inline code spans, in reading order."""
    tokens = MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8"))
    parts: list[Part] = []
    inside = False
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            heading = tokens[index + 1].content
            if inside and token.tag <= "h2":
                break
            inside = inside or heading == title
        elif inside and token.type == "fence":
            parts.append(Part(token.info.strip().split(" ")[0], token.content))
        elif inside and token.type == "inline":
            parts += [Part(None, child.content) for child in token.children or [] if child.type == "code_inline"]
    assert parts, f"README.md has no section {title!r}"
    return parts


def commands(text: str) -> Iterator[list[str]]:
    for line in re.sub(r"\\\n", " ", text).splitlines():
        if words := shlex.split(line, comments=True):
            yield words


def run(words: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """A README command as the user runs it at the repository root (`.venv/bin/sqlflow-assets` = this checkout's CLI)."""
    assert words[0] == ".venv/bin/sqlflow-assets", f"the walk-through runs {words[0]!r}, which this test does not know"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "sqlflow_assets.cli", *words[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{shlex.join(words)} exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def written_file(parts: list[Part], block: int) -> str:
    """The `.sql` path the prose names just before fence number `block` of the section."""
    fence = [i for i, part in enumerate(parts) if part.language][block]
    named = [part.text for part in parts[:fence] if part.language is None and part.text.endswith(".sql")]
    assert named, f"no file named before the section's SQL block {block + 1}"
    return named[-1]


def load_new_jobs(instance: dg.DagsterInstance, cursor: str | None) -> tuple[dict[str, str], str | None]:
    """The sensor's part: one tick, its partitions added, its lineage runs materialised; {job id: partition key}."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"sqlflow": SQLFlowResource()})
    result = sqlflow_job_sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    loaded = {}
    for request in result.run_requests:
        if request.job_name == lineage_job.name:
            assert dg.materialize(
                [assets.sqlflow_job_lineage], partition_key=request.partition_key, instance=instance, resources=default_resources()
            ).success
            loaded[job_id_of(request.partition_key)] = request.partition_key
    assert dg.materialize([assets.lineage_graph], instance=instance, resources=default_resources()).success
    return loaded, result.cursor


def current_jobs(duckdb_path: Path) -> dict[str, str]:
    with duckdb.connect(str(duckdb_path), read_only=True) as conn:
        return dict(conn.execute("SELECT source, job_id FROM lineage.current_jobs").fetchall())


@pytest.fixture
def walkthrough_project(tmp_path, monkeypatch) -> Iterator[Path]:
    """A fresh repository root with its own local SQLFlow server and user, DuckDB file and dlt folder."""
    project = tmp_path / "repo"
    (project / ".dlt").mkdir(parents=True)
    server, base_url = start_local_server(tmp_path / "server", f"{USER_ID}:{SECRET}")
    for name in ("TOKEN", "SQL_SOURCES", "WAREHOUSE_ASSETS"):
        monkeypatch.delenv(f"SOURCES__SQLFLOW__{name}", raising=False)
    monkeypatch.delenv("DESTINATION_TYPE", raising=False)
    monkeypatch.setenv("DLT_PROJECT_DIR", str(project))
    monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", base_url)
    monkeypatch.setenv("SOURCES__SQLFLOW__USER_ID", USER_ID)
    monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", SECRET)
    monkeypatch.setenv("SQLFLOW_DUCKDB_PATH", str(project / "data" / "sqlflow.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(project / ".dlt_data"))
    try:
        yield project
    finally:
        stop_local_server(server)
        monkeypatch.undo()
        config.reload_changed_settings()


def test_the_walkthrough_runs_as_written(walkthrough_project: Path) -> None:
    project = walkthrough_project
    parts = section()
    fences = [part for part in parts if part.language]
    assert [part.language for part in fences] == SHAPE, "the walk-through changed: make this test follow it"
    folder_sql, repo_sql, toml, submits, query, impact = fences
    prose = [part.text for part in parts if part.language is None]

    # 0. "With `./scripts/start` running": a server, checked by --help only (whose ports --host/--port are)
    assert "./scripts/start" in prose
    assert 'exec sqlflow-assets start "$@"' in (REPO_ROOT / "scripts" / "start").read_text()
    start_help = " ".join(run([".venv/bin/sqlflow-assets", "start", "--help"], project).stdout.split())
    assert "--host HOST address the Dagster UI" in start_help and "--port PORT port of the Dagster UI" in start_help

    # 1. say where the SQL lives: the folder, the git repository (committed on its branch), the config
    settings = tomllib.loads(toml.text)["sources"]["sqlflow"]["sql_sources"]
    folder = next(source for source in settings if source.get("kind", "folder") == "folder")
    repo = next(source for source in settings if source.get("kind") == "git")
    folder_file = written_file(parts, 0)
    assert folder_file.startswith(folder["path"] + "/")
    (project / folder_file).parent.mkdir(parents=True)
    (project / folder_file).write_text(folder_sql.text)
    repo_dir = (project / repo["path"]).resolve()
    repo_file = written_file(parts, 1)
    assert repo["path"] in prose and repo_file.startswith(repo["subfolder"] + "/")
    (repo_dir / repo_file).parent.mkdir(parents=True)
    (repo_dir / repo_file).write_text(repo_sql.text)
    git(repo_dir, "init", "-q", "-b", repo["branch"])
    git(repo_dir, "add", ".")
    git(repo_dir, "-c", "user.name=walk", "-c", "user.email=walk@example.invalid", "commit", "-q", "-m", "models")
    (repo_dir / repo_file).write_text("-- an uncommitted edit, which a git source never reads\n")
    (project / ".dlt" / "config.toml").write_text(toml.text)
    config.reload_changed_settings()

    # 2. submit it: the shell's commands, each waiting for its analysis
    submitted = {}
    for words in commands(submits.text):
        out = run(words, project).stdout
        found = re.search(r"^(\S+): submitted .* as job (\S+)$", out, flags=re.M)
        assert found and f"job {found.group(2)}: success" in out, out
        submitted[found.group(1)] = found.group(2)
    assert set(submitted) == {folder["name"], repo["name"]}
    # the UI's Materialize shares the CLI's record: nothing changed, nothing sent, no materialisation
    instance = dg.DagsterInstance.ephemeral()
    button = dg.materialize([sql_submission], instance=instance, resources=default_resources())
    assert button.success and not button.asset_materializations_for_node(sql_submission.op.name)

    # 3. watch it land: the sensor's partitions (name, time, id) and runs, then the graph
    loaded, cursor = load_new_jobs(instance, None)
    assert set(loaded) == set(submitted.values())
    for name, job_id in submitted.items():
        assert loaded[job_id].startswith(f"{name} @ ") and loaded[job_id].endswith(f"({job_id})")
    assert current_jobs(Path(config.duckdb_database())) == submitted
    listed = [words for text in prose if text.startswith(".venv/bin/") for words in commands(text)]
    assert [words[1] for words in listed] == ["jobs"], "the walk-through's prose runs another command: run it here"
    jobs = run(listed[0], project).stdout
    assert all(job_id in jobs for job_id in submitted.values()) and "success" in jobs, jobs

    # 4. query it: the two sources stitched by table name
    with duckdb.connect(str(Path(config.duckdb_database())), read_only=True) as conn:
        cursor_ = conn.execute(query.text)
        rows = [dict(zip([d[0] for d in cursor_.description], row, strict=True)) for row in cursor_.fetchall()]
    edges = {(r["source"], f"{r['source_object']}.{r['source_column']}", f"{r['target_object']}.{r['target_column']}") for r in rows}
    assert (folder["name"], "shop.orders.amount", "reports.daily_revenue.revenue") in edges
    assert (repo["name"], "reports.daily_revenue.revenue", "reports.big_days.revenue") in edges

    # 5. check impact: what the prose after the command says it prints
    [impact_words] = list(commands(impact.text))
    printed = {".".join(line.split()[:2]) for line in run(impact_words, project).stdout.splitlines()[1:]}  # object, column, ...
    promised = {"reports.daily_revenue.revenue": 1, "reports.big_days.revenue": 2, "reports.big_days.PseudoRows": 2}
    assert set(promised) <= set(prose), "the walk-through's impact result changed: make this test follow it"
    as_json = json.loads(run([*impact_words, "--format", "json"], project).stdout)
    depths = {f"{row['object']}.{row['column']}": row["depth"] for row in as_json}
    for column, depth in promised.items():
        assert column in printed and depths.get(column) == depth, (column, depths)

    # "Edit a file and submit again": the button this time; the new job replaces the source's old one
    (project / folder_file).write_text(folder_sql.text.replace("SUM(amount) AS revenue", "SUM(amount) AS revenue, COUNT(*) AS orders"))
    button = dg.materialize([sql_submission], instance=instance, resources=default_resources())
    [materialization] = button.asset_materializations_for_node(sql_submission.op.name)
    assert materialization.metadata["submitted"].value == [folder["name"]]  # the repository did not change
    new_job = materialization.metadata[f"job_id/{folder['name']}"].value
    from sqlflow_assets.api.client import SQLFlowClient

    SQLFlowClient.from_config().wait_for_job(new_job, poll_seconds=0.2, timeout=120)
    loaded, _ = load_new_jobs(instance, cursor)
    assert new_job in loaded
    assert current_jobs(Path(config.duckdb_database())) == {**submitted, folder["name"]: new_job}
