"""Job store of the local SQLFlow server: one folder per job, analysed in worker processes.

Layout of `<data-dir>/jobs/<jobId>/`: `job.json` (the public job object plus the analysis
options and a generation counter), `files/` (the uploaded SQL), `result.json` (the `sqlflow`
object once done) and `result-<key>.json` (cached exports with other options). Every write goes
through a temp file and `os.replace`; read-modify-writes of job.json hold an flock, because the
worker processes and the server both update it. Adding files to a persist job bumps the
generation, so a still-running analysis of the old file set cannot overwrite the new state.

A worker that dies (SIGKILL, out of memory) breaks a ProcessPoolExecutor for good, and every
job queued on it fails with it. WorkerPool replaces a broken executor on the next submit; the
job store then fails only the job whose recorded worker is dead and queues the others again.
Upload names are checked as a whole before a job folder is made, so a refused upload leaves
nothing behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import hashlib
import io
import json
import logging
import multiprocessing
import os
import re
import shutil
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlflow_assets.domain import DONE_STATUSES, PENDING_STATUSES, JobStatus
from sqlflow_assets.errors import JobError
from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
RESULT_FILE = "result.json"
FILES_DIR = "files"
LOCK_FILE = ".lock"
MAX_NAME_BYTES = 255  # one path component, as most file systems allow
MAX_PATH_BYTES = 1024


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its client-side name and bytes."""

    name: str
    data: bytes


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON so readers never see half a file, even across a crash."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@contextmanager
def job_lock(job_dir: Path) -> Iterator[None]:
    """Exclusive lock on one job across the server and its worker processes."""
    with open(job_dir / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def update_record(job_dir: Path, change: Callable[[dict[str, Any]], bool]) -> None:
    """Apply `change` to job.json under the lock; it returns False to leave the file alone."""
    try:
        with job_lock(job_dir):
            record = read_json(job_dir / JOB_FILE)
            if change(record):
                write_json_atomic(job_dir / JOB_FILE, record)
    except FileNotFoundError:
        log.info("job %s was deleted while it was updated", job_dir.name)


def safe_relpath(name: str) -> str:
    """A client file name reduced to a relative path that cannot leave the job folder.

    Names the file system would refuse (control characters such as NUL, over-long parts) are a
    JobError, an API error for the client, rather than an OSError deep in the store.
    """
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise JobError(message=f"file name {name!r} contains a control character")
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    if not parts:
        raise JobError(message=f"unusable file name {name!r}")
    path = "/".join(parts)
    if max(len(part.encode()) for part in parts) > MAX_NAME_BYTES or len(path.encode()) > MAX_PATH_BYTES:
        raise JobError(
            message=f"file name {name[:60]!r}... is too long (at most {MAX_NAME_BYTES} bytes a part, {MAX_PATH_BYTES} in all)"
        )
    return path


def plan_files(kept: Sequence[str], uploads: Sequence[Upload]) -> list[tuple[str, bytes]]:
    """(relative path, bytes) of each upload, checked as a set: no file may also be a folder of another.

    `a.sql` beside `a.sql/b.sql` (two uploads, or a zip entry and an upload) cannot both be stored.
    """
    planned = [(safe_relpath(upload.name), upload.data) for upload in uploads]
    names = set(kept) | {name for name, _ in planned}
    for name in sorted(names):
        parents = PurePosixPath(name).parents
        clash = next((str(parent) for parent in parents if str(parent) in names), None)
        if clash is not None:
            raise JobError(message=f"{clash!r} is uploaded as a file and also used as a folder by {name!r}")
    return planned


def expand_uploads(uploads: Sequence[Upload], max_expanded_bytes: int) -> list[Upload]:
    """Replace each `.zip` by the files inside it (folders and hidden entries skipped)."""
    expanded: list[Upload] = []
    for upload in uploads:
        if not upload.name.lower().endswith(".zip"):
            expanded.append(upload)
            continue
        try:
            with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
                members = [m for m in archive.infolist() if not m.is_dir() and not _hidden(m.filename)]
                if sum(m.file_size for m in members) > max_expanded_bytes:
                    raise JobError(message=f"{upload.name}: expands beyond {max_expanded_bytes} bytes")
                expanded.extend(Upload(m.filename, archive.read(m)) for m in members)
        except zipfile.BadZipFile:
            raise JobError(message=f"{upload.name}: not a valid zip file") from None
    return expanded


def _hidden(member: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(member).parts)


def options_to_json(options: AnalysisOptions) -> dict[str, Any]:
    return dataclasses.asdict(options)


def options_from_json(data: dict[str, Any]) -> AnalysisOptions:
    return AnalysisOptions(**{**data, "show_relation_type": tuple(data["show_relation_type"])})


def session_id(seed: str) -> str:
    """SQLFlow's `<sha256 hex>_<epoch millis>` session id."""
    return f"{hashlib.sha256(seed.encode()).hexdigest()}_{int(time.time() * 1000)}"


def judge(sqlflow: dict[str, Any]) -> tuple[str, str | None]:
    """Job status and error message from an analysis: errors with lineage are a partial success."""
    messages = [str(e.get("errorMessage", "")) for e in sqlflow.get("errors") or []]
    if not messages:
        return JobStatus.SUCCESS, None
    if sqlflow.get("relationships"):
        return JobStatus.PARTIAL_SUCCESS, None
    return JobStatus.FAIL, "\r\n".join(messages)


def _analyze_job(job_dir: Path, record: dict[str, Any], options: AnalysisOptions) -> dict[str, Any]:
    files = [
        SqlFile(name, (job_dir / FILES_DIR / name).read_bytes().decode("utf-8-sig", errors="replace"))
        for name in record["job"]["fileNames"]
    ]
    return analyze(files, record["job"]["dbVendor"], options)


def run_job(job_dir_name: str, generation: int) -> None:
    """Worker-process entry point: analyse the job's files and record the outcome."""
    job_dir = Path(job_dir_name)

    def is_current(record: dict[str, Any]) -> bool:
        return record["generation"] == generation

    def mark_running(record: dict[str, Any]) -> bool:
        if not is_current(record):
            return False
        record["job"]["status"] = JobStatus.RUNNING
        record["workerPid"] = os.getpid()  # tells a crash of this worker from a crash of another one
        return True

    update_record(job_dir, mark_running)
    try:
        record = read_json(job_dir / JOB_FILE)
        sqlflow = _analyze_job(job_dir, record, options_from_json(record["options"]))
    except FileNotFoundError:
        return
    status, message = judge(sqlflow)
    tmp = job_dir / f".{RESULT_FILE}.{generation}.tmp"
    try:
        tmp.write_text(json.dumps(sqlflow, ensure_ascii=False), encoding="utf-8")
    except FileNotFoundError:
        return

    def finish(record: dict[str, Any]) -> bool:
        if not is_current(record):
            tmp.unlink(missing_ok=True)
            return False
        os.replace(tmp, job_dir / RESULT_FILE)
        _set_outcome(record, status, message)
        record["job"]["sessionId"] = session_id(f"{record['job']['jobId']}:{generation}")
        return True

    update_record(job_dir, finish)


def write_variant(job_dir_name: str, options_json: dict[str, Any], out_name: str) -> None:
    """Worker-process entry point: analyse the job again with export-time options and cache it."""
    job_dir = Path(job_dir_name)
    sqlflow = _analyze_job(job_dir, read_json(job_dir / JOB_FILE), options_from_json(options_json))
    write_json_atomic(job_dir / out_name, sqlflow)


def _set_outcome(record: dict[str, Any], status: str, message: str | None) -> None:
    record["job"]["status"] = status
    if message:
        record["job"]["errorMessage"] = message
    else:
        record["job"].pop("errorMessage", None)


PF_EXITING = 0x4  # Linux task flag, set as soon as a process starts to die (before its pipes close)


def worker_alive(pid: int | None) -> bool:
    """Whether a worker process still runs: not gone, not a zombie, not dying.

    The pool notices a killed worker when its pipe closes, which happens while the process is
    still exiting; the PF_EXITING flag already tells it apart from its live siblings then.
    """
    if pid is None:
        return False
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return False
    state, flags = fields[0], int(fields[6])
    return state not in ("Z", "X") and not flags & PF_EXITING


class WorkerPool(Executor):
    """A spawn-context process pool that replaces its executor when a worker died and broke it.

    spawn, not fork: the server has threads, and a forked child could inherit a held lock.
    Futures of the broken executor fail with BrokenProcessPool; their owners decide what to redo.
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._lock = threading.Lock()
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            try:
                return self._executor.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                log.warning("a worker process died; replacing the pool of %d workers", self._workers)
                self._executor = self._new_executor()
                return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._executor.shutdown(wait=wait, cancel_futures=cancel_futures)


class JobStore:
    """The jobs of every user in one data dir; analyses run on `pool`."""

    def __init__(self, root: Path, pool: Executor) -> None:
        self._root = root
        self._pool = pool
        root.mkdir(parents=True, exist_ok=True)

    def submit(
        self,
        user_id: str,
        job_name: str,
        dbvendor: str,
        uploads: Sequence[Upload],
        options: AnalysisOptions,
    ) -> dict[str, Any]:
        """Create a job from uploaded files and queue its analysis; returns the job object.

        The uploads are checked before the job folder exists, and a failure while storing them
        (disk full...) removes the folder again: a refused upload leaves no half job behind.
        """
        planned = plan_files([], uploads)
        job_id = uuid.uuid4().hex
        job_dir = self._root / job_id
        (job_dir / FILES_DIR).mkdir(parents=True)
        try:
            job = self._new_job(job_dir, user_id, job_name, dbvendor, planned, options)
        except BaseException:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise
        self._schedule(job_dir, 1)
        return job

    def _new_job(
        self,
        job_dir: Path,
        user_id: str,
        job_name: str,
        dbvendor: str,
        planned: Sequence[tuple[str, bytes]],
        options: AnalysisOptions,
    ) -> dict[str, Any]:
        """Store the files and job.json of a new job; returns the job object."""
        job = {
            "jobId": job_dir.name,
            "jobName": job_name,
            "userId": user_id,
            "dbVendor": dbvendor,
            "dataSource": {},
            "defaultDatabase": options.default_database or "",
            "defaultSchema": options.default_schema or "",
            "fileNames": self._store_files(job_dir, [], planned),
            "createTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "status": JobStatus.CREATE,
        }
        record = {"job": job, "options": options_to_json(options), "generation": 1, "created": time.time()}
        write_json_atomic(job_dir / JOB_FILE, record)
        return job

    def add_files(self, user_id: str, job_id: str, uploads: Sequence[Upload], incremental: bool) -> dict[str, Any]:
        """Add files to an existing job (or replace them when not incremental) and analyse it again."""
        job_dir, _ = self._owned(user_id, job_id)
        with job_lock(job_dir):
            record = read_json(job_dir / JOB_FILE)
            kept = record["job"]["fileNames"] if incremental else []
            planned = plan_files(kept, uploads)
            if not incremental:
                shutil.rmtree(job_dir / FILES_DIR)
                (job_dir / FILES_DIR).mkdir()
            record["job"]["fileNames"] = self._store_files(job_dir, kept, planned)
            record["generation"] += 1
            _set_outcome(record, JobStatus.CREATE, None)
            record["job"].pop("sessionId", None)
            for cached in job_dir.glob("result*.json"):
                cached.unlink()
            write_json_atomic(job_dir / JOB_FILE, record)
        self._schedule(job_dir, record["generation"])
        return record["job"]

    def get(self, user_id: str, job_id: str) -> dict[str, Any]:
        """The caller's job object; someone else's job is reported as unknown."""
        return self._owned(user_id, job_id)[1]["job"]

    def list_jobs(self, user_id: str) -> list[dict[str, Any]]:
        """The caller's jobs, oldest first (by a sub-second creation time: createTime has whole seconds)."""
        records = [record for record in self._all_records() if record["job"]["userId"] == user_id]
        return [record["job"] for record in sorted(records, key=lambda record: record["created"])]

    def delete(self, user_id: str, job_id: str) -> dict[str, Any]:
        """Remove the job folder; returns the job object with status `delete`."""
        job_dir, record = self._owned(user_id, job_id)
        shutil.rmtree(job_dir, ignore_errors=True)
        return {**record["job"], "status": "delete"}

    def recover(self) -> int:
        """Queue again, oldest first, the jobs a crash or stop left `create`/`running`; returns how many."""
        pending = sorted((r for r in self._all_records() if r["job"]["status"] in PENDING_STATUSES), key=lambda r: r["created"])
        for record in pending:
            self._requeue(self._root / record["job"]["jobId"], record["generation"])
        return len(pending)

    async def result(
        self, user_id: str, job_id: str, overrides: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(job object, sqlflow) of a finished job; `overrides` change analysis options for this export."""
        job_dir, record = self._owned(user_id, job_id)
        job = record["job"]
        if job["status"] in PENDING_STATUSES:
            raise JobError(message=f"job {job_id} is not finished yet (status {job['status']}); export it once it is done")
        if job["status"] not in DONE_STATUSES:
            raise JobError(message=f"job {job_id} failed: {job.get('errorMessage', '')}")
        options = {**record["options"], **overrides}
        if options == record["options"]:
            return job, read_json(job_dir / RESULT_FILE)
        key = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]
        cached = job_dir / f"result-{record['generation']}-{key}.json"
        if not cached.is_file():
            try:
                await asyncio.wrap_future(self._pool.submit(write_variant, str(job_dir), options, cached.name))
            except BrokenProcessPool:
                raise JobError(message=f"the analysis worker died while exporting job {job_id}; ask again") from None
        return job, read_json(cached)

    def _owned(self, user_id: str, job_id: str) -> tuple[Path, dict[str, Any]]:
        """(folder, record) of the caller's job; a malformed, unknown or foreign jobId is all "unknown"."""
        job_dir = self._root / job_id
        try:
            record = read_json(job_dir / JOB_FILE) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
        except FileNotFoundError:
            record = None
        if record is None or record["job"]["userId"] != user_id:
            raise JobError(message=f"unknown jobId {job_id!r}")
        return job_dir, record

    def _all_records(self) -> Iterator[dict[str, Any]]:
        for path in self._root.glob(f"*/{JOB_FILE}"):
            try:
                yield read_json(path)
            except FileNotFoundError:
                continue

    @staticmethod
    def _store_files(job_dir: Path, kept: list[str], planned: Sequence[tuple[str, bytes]]) -> list[str]:
        names = list(kept)
        for name, data in planned:
            target = job_dir / FILES_DIR / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if name not in names:
                names.append(name)
        return names

    def _schedule(self, job_dir: Path, generation: int) -> None:
        future = self._pool.submit(run_job, str(job_dir), generation)
        future.add_done_callback(lambda done: self._on_done(job_dir, generation, done))

    def _requeue(self, job_dir: Path, generation: int) -> None:
        """Queue a job again as `create`, forgetting the worker of an earlier attempt."""

        def reset(record: dict[str, Any]) -> bool:
            if record["generation"] != generation:
                return False
            record["job"]["status"] = JobStatus.CREATE
            record.pop("workerPid", None)
            return True

        update_record(job_dir, reset)
        self._schedule(job_dir, generation)

    def _on_done(self, job_dir: Path, generation: int, future: Future) -> None:
        """A crashed analysis must not leave its job running forever, nor take the queued jobs with it.

        On a broken pool, the job whose recorded worker is dead fails with a clear message; the
        others (queued, or running in a sibling worker the pool then stopped) are queued again.
        Runs in the pool's manager thread before the sibling workers are stopped.
        """
        if future.cancelled() or future.exception() is None:
            return
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            try:
                record = read_json(job_dir / JOB_FILE)
            except FileNotFoundError:
                return
            if record["generation"] != generation or record["job"]["status"] not in PENDING_STATUSES:
                return
            if record["job"]["status"] == JobStatus.CREATE or worker_alive(record.get("workerPid")):
                log.info("job %s was queued when a worker died; queueing it again", job_dir.name)
                self._requeue(job_dir, generation)
                return
            message = "the analysis worker died (killed or out of memory) while analysing this job"
        else:
            message = f"analysis crashed: {error!r}"
        log.error("job %s: %s", job_dir.name, message)

        def fail(record: dict[str, Any]) -> bool:
            if record["generation"] != generation:
                return False
            _set_outcome(record, JobStatus.FAIL, message)
            return True

        update_record(job_dir, fail)
