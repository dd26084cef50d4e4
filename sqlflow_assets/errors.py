"""Every error the package raises, under one root, each built with keyword arguments.

One root (`SQLFlowAssetsError`) lets a caller catch "anything this package refused" without
catching bugs (a `TypeError`, a `KeyError`); the subclasses say which layer refused: the SQLFlow
API (`SQLFlowError`), a lineage payload (`LineagePayloadError`), the local engine (`EngineError`),
configuration (`ConfigError`), the storage lock (`StorageBusy`), a job's load (`JobLineageError`)
or the local server's answer to a request (`LocalServerError`). Keyword construction keeps the
fields from being swapped (an endpoint passed as a code, a job status passed as an error code).

Messages name the endpoint or the job; they never carry a secret: the client masks the secret
key and the token in every text it quotes (`client._mask`) before it builds an error.
This module imports nothing from the package, so every layer can import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SQLFlowAssetsError(Exception):
    """The root: everything the package raises on purpose. `message` is the text, keyword only."""

    def __init__(self, *, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled without calling the keyword-only `__init__` (an error crossing a process pool)."""
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type[SQLFlowAssetsError], args: tuple[Any, ...], state: dict[str, Any]) -> SQLFlowAssetsError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


# --- the SQLFlow API (the client) ----------------------------------------------------------------


class SQLFlowError(SQLFlowAssetsError):
    """A failed SQLFlow call: HTTP error, non-200/203 `code`, unreadable body, or failed job.

    `code` is what the server answered (an HTTP status or the envelope's `code`), never a job status.
    """

    def __init__(self, *, endpoint: str | None = None, code: int | str | None = None, message: str) -> None:
        super().__init__(message=message)
        self.args = (f"SQLFlow {endpoint or 'client'}: {message}" + ("" if code is None else f" (code {code})"),)
        self.endpoint = endpoint
        self.code = code


class DeadlineExceeded(SQLFlowError):
    """Raised inside a request that starts after its call's deadline passed (never retried)."""

    def __init__(self) -> None:
        super().__init__(message="deadline passed")


class JobNotFinished(SQLFlowError):
    """A job still pending when the wait for it ran out; `status` is its last status."""

    def __init__(self, *, endpoint: str, job_id: str, status: Any, timeout: float) -> None:
        super().__init__(endpoint=endpoint, message=f"job {job_id} not finished after {timeout:g} s (status {status!r})")
        self.job_id = job_id
        self.status = status


# --- configuration -------------------------------------------------------------------------------


class ConfigError(SQLFlowAssetsError, ValueError):
    """A setting is missing or unreadable; the message names the setting, never its secret value."""


class OpenLineageConfigError(ConfigError):
    """`[sources.sqlflow.openlineage]` is set but cannot work (unknown transport, no url or file)."""


class SourceError(SQLFlowAssetsError):
    """A SQL source that cannot be read: missing folder or file, no matching files, a git failure."""


class UsageError(SQLFlowAssetsError):
    """A command-line request the CLI cannot act on (exit code 2), as opposed to a failure while acting (1)."""


class StorageBusy(SQLFlowAssetsError, TimeoutError):
    """Another writer held a storage lock for longer than the wait allowed (also a TimeoutError)."""

    def __init__(self, *, lock_file: str, timeout: float) -> None:
        super().__init__(message=f"{lock_file} stayed locked by another writer for {timeout:.0f} s")
        self.lock_file = lock_file


# --- lineage payloads and their load -------------------------------------------------------------


class LineagePayloadError(SQLFlowAssetsError, ValueError):
    """The payload is not SQLFlow lineage JSON, or the server answered with an error code."""


class JobLineageError(SQLFlowAssetsError):
    """A job's lineage could not be loaded; the message names the job and the cause, never a secret."""

    def __init__(self, *, job_id: str, message: str) -> None:
        super().__init__(message=message)
        self.args = (f"SQLFlow job {job_id}: {message}",)
        self.job_id = job_id


class LineageCheckFailed(JobLineageError):
    """A blocking check failed: the job's lineage is not loaded. `failed` holds the check outcomes."""

    def __init__(self, *, job_id: str, failed: Sequence[Any]) -> None:
        detail = "; ".join(f"{outcome.name}: {outcome.description}" for outcome in failed)
        super().__init__(job_id=job_id, message=f"blocking check failed, nothing loaded ({detail})")
        self.failed = list(failed)


class JobNotCurrent(SQLFlowAssetsError, LookupError):
    """The job id is not the current job of any source (superseded, not loaded, or no graph yet)."""


class CatalogSnapshotError(SQLFlowAssetsError, ValueError):
    """The warehouse catalog snapshot cannot be read (not JSON, another format); the message names the file."""

    def __init__(self, *, path: str, message: str) -> None:
        super().__init__(message=message)
        self.args = (f"warehouse catalog snapshot {path}: {message}",)
        self.path = path


class DotMissing(SQLFlowAssetsError, RuntimeError):
    """Graphviz `dot` is not on PATH; `message` says how to install it."""


# --- the local engine ----------------------------------------------------------------------------


class EngineError(SQLFlowAssetsError):
    """The local lineage engine refused its input."""


class UnknownVendorError(EngineError, ValueError):
    """A dbvendor outside docs/sqlflow-api.md §0; the message lists the valid ones."""

    def __init__(self, *, dbvendor: str, supported: Sequence[str]) -> None:
        super().__init__(message=f"unknown dbvendor {dbvendor!r}; valid values: {', '.join(supported)}")
        self.dbvendor = dbvendor


class StatementTimeout(EngineError):
    """A statement ran past its analysis time limit."""

    def __init__(self) -> None:
        super().__init__(message="statement analysis ran past its time limit")


# --- the local server's answers ------------------------------------------------------------------


class LocalServerError(SQLFlowAssetsError):
    """A request the local server refuses; answered as the API's envelope `{"code": code, "error": message}`."""

    default_code = 400

    def __init__(self, *, message: str, code: int | None = None) -> None:
        super().__init__(message=message)
        self.code = self.default_code if code is None else code


class ApiError(LocalServerError):
    """A malformed request (missing or bad field, too big a body), with the code to answer."""


class AuthError(LocalServerError):
    """A request whose userId/secretKey/token is missing or wrong (the API's 401)."""

    default_code = 401


class JobError(LocalServerError):
    """A job request that cannot be served (unknown job, not done yet, bad upload)."""
