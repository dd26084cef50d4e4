"""Job store pieces: upload handling, outcome rules, the generation guard and crash recovery."""

from __future__ import annotations

import io
import json
import multiprocessing
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze
from sqlflow_assets.local.job_store import (
    JobError,
    JobStore,
    Upload,
    expand_uploads,
    judge,
    options_from_json,
    options_to_json,
    plan_files,
    run_job,
    safe_relpath,
    worker_alive,
)
from sqlflow_assets_tests.support import BAD_SQL, GOOD_SQL, zipped

USER = "alice|1"


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


def wait_done(store: JobStore, job_id: str) -> dict:
    deadline = time.monotonic() + 20
    while (job := store.get(USER, job_id))["status"] in ("create", "running"):
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.2)
    return job


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.sql", "a.sql"),
        ("../../etc/passwd", "etc/passwd"),
        ("/abs/dir/b.sql", "abs/dir/b.sql"),
        ("win\\c.sql", "win/c.sql"),
    ],
)
def test_safe_relpath_stays_inside(name: str, expected: str) -> None:
    assert safe_relpath(name) == expected


def test_safe_relpath_rejects_empty_names() -> None:
    with pytest.raises(JobError):
        safe_relpath("../..")


@pytest.mark.parametrize(
    ("name", "complaint"),
    [("a\x00.sql", "control character"), ("x" * 256, "too long"), ("/".join(["d" * 200] * 6), "too long")],
)
def test_safe_relpath_rejects_names_the_file_system_would_refuse(name: str, complaint: str) -> None:
    with pytest.raises(JobError, match=complaint):
        safe_relpath(name)


def test_plan_files_refuses_a_file_that_is_also_a_folder() -> None:
    assert plan_files(["a.sql"], [Upload("d/b.sql", b"x")]) == [("d/b.sql", b"x")]
    with pytest.raises(JobError, match="'a.sql' is uploaded as a file and also used as a folder"):
        plan_files(["a.sql"], [Upload("a.sql/b.sql", b"x")])
    with pytest.raises(JobError, match="'d/e'"):
        plan_files([], [Upload("d/e/f.sql", b"x"), Upload("d/e", b"y")])


def test_worker_alive_tells_live_from_dead_processes() -> None:
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
    child.start()
    child.join()
    assert worker_alive(multiprocessing.current_process().pid) and not worker_alive(child.pid)
    assert not worker_alive(None)


def test_zip_expansion() -> None:
    archive = zipped({"d/a.sql": "select 1", ".hidden.sql": "x", "__MACOSX/d/._a.sql": "x"})
    expanded = expand_uploads([Upload("plain.sql", b"select 2"), Upload("ALL.ZIP", archive)], max_expanded_bytes=1_000)
    assert [(u.name, u.data) for u in expanded] == [("plain.sql", b"select 2"), ("d/a.sql", b"select 1")]


def test_zip_errors() -> None:
    with pytest.raises(JobError, match="not a valid zip"):
        expand_uploads([Upload("x.zip", b"not a zip")], 1_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.sql", " " * 10_000)
    with pytest.raises(JobError, match="expands beyond"):
        expand_uploads([Upload("x.zip", buffer.getvalue())], 1_000)


def test_outcome_rules_on_real_analyses() -> None:
    options = AnalysisOptions()
    assert judge(analyze([SqlFile("a.sql", GOOD_SQL)], "dbvpostgresql", options)) == ("success", None)
    mixed = analyze([SqlFile("a.sql", GOOD_SQL), SqlFile("b.sql", BAD_SQL)], "dbvpostgresql", options)
    assert judge(mixed) == ("partial_success", None)
    status, message = judge(analyze([SqlFile("b.sql", BAD_SQL)], "dbvpostgresql", options))
    assert status == "fail" and message


def test_options_round_trip_through_json() -> None:
    options = AnalysisOptions(show_relation_type=("fdd", "fdr"), simple_output=True, default_schema="s")
    assert options_from_json(json.loads(json.dumps(options_to_json(options)))) == options


def test_stale_analysis_cannot_overwrite_a_newer_generation(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    store = JobStore(tmp_path, pool)
    job = store.submit(USER, "j", "dbvpostgresql", [Upload("a.sql", GOOD_SQL.encode())], AnalysisOptions())
    done = wait_done(store, job["jobId"])
    job_dir = tmp_path / job["jobId"]
    before = ((job_dir / "job.json").read_text(), (job_dir / "result.json").read_text())
    run_job(str(job_dir), generation=0)  # an analysis started before the files changed
    assert ((job_dir / "job.json").read_text(), (job_dir / "result.json").read_text()) == before
    assert not list(job_dir.glob("*.tmp"))
    assert done["status"] == "success"


def test_recover_requeues_interrupted_jobs(tmp_path: Path, pool: ProcessPoolExecutor) -> None:
    store = JobStore(tmp_path, pool)
    job = store.submit(USER, "j", "dbvpostgresql", [Upload("b.sql", BAD_SQL.encode())], AnalysisOptions())
    wait_done(store, job["jobId"])
    path = tmp_path / job["jobId"] / "job.json"
    record = json.loads(path.read_text())
    record["job"]["status"] = "create"
    path.write_text(json.dumps(record))
    assert JobStore(tmp_path, pool).recover() == 1
    assert wait_done(store, job["jobId"])["status"] == "fail"
