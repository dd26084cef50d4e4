"""One exception root for the package, keyword-built errors, and the names older imports still find."""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import pytest

import sqlflow_assets
from sqlflow_assets import errors

PACKAGE = Path(sqlflow_assets.__file__).parent


def _package_error_classes() -> list[type[BaseException]]:
    return [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, BaseException)]


def test_every_error_of_the_package_has_the_one_root() -> None:
    classes = _package_error_classes()
    assert len(classes) >= 20
    assert all(issubclass(cls, errors.SQLFlowAssetsError) for cls in classes)


def test_no_module_defines_its_own_exception_class() -> None:
    """An exception class outside errors.py would be a second root (or a hidden subclass)."""
    stray = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and (base.id.endswith(("Error", "Exception")) or base.id == "TimeoutError")
                for base in node.bases
            ):
                stray.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert stray == []


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (errors.SQLFlowError, {"endpoint": "/x", "code": 400, "message": "m"}),
        (errors.JobNotFinished, {"endpoint": "/x", "job_id": "j1", "status": "running", "timeout": 1}),
        (errors.ConfigError, {"message": "m"}),
        (errors.StorageBusy, {"lock_file": "/tmp/l", "timeout": 1}),
        (errors.LineagePayloadError, {"message": "m"}),
        (errors.JobLineageError, {"job_id": "j1", "message": "m"}),
        (errors.UnknownVendorError, {"dbvendor": "dbvnope", "supported": ["dbvoracle"]}),
        (errors.ApiError, {"code": 413, "message": "m"}),
        (errors.AuthError, {"message": "m"}),
        (errors.JobError, {"message": "m"}),
        (errors.OpenLineageConfigError, {"message": "m"}),
        (errors.SourceError, {"message": "m"}),
        (errors.UsageError, {"message": "m"}),
        (errors.JobNotCurrent, {"message": "m"}),
        (errors.DotMissing, {"message": "m"}),
    ],
)
def test_errors_are_built_with_keywords_only(cls: type[Exception], fields: dict) -> None:
    with pytest.raises(TypeError):
        cls(*fields.values())
    error = cls(**fields)
    copied = pickle.loads(pickle.dumps(error))  # as a worker process's error reaches the server
    assert (type(copied), str(copied), copied.__dict__) == (cls, str(error), error.__dict__)
    for name in set(fields) & {"endpoint", "code", "job_id", "dbvendor", "status"}:
        assert getattr(error, name) == fields[name]


def test_messages_name_the_endpoint_or_the_job() -> None:
    assert str(errors.SQLFlowError(endpoint="/sqlflow/job/x", code="500", message="boom")) == "SQLFlow /sqlflow/job/x: boom (code 500)"
    assert str(errors.JobLineageError(job_id="j7", message="unreadable")) == "SQLFlow job j7: unreadable"
    assert "job j7 not finished" in str(errors.JobNotFinished(endpoint="/e", job_id="j7", status="running", timeout=3))


def test_local_server_errors_carry_their_answer_code() -> None:
    assert (errors.AuthError(message="m").code, errors.JobError(message="m").code) == (401, 400)
    assert errors.ApiError(code=413, message="m").code == 413


def test_builtin_families_are_kept_where_callers_rely_on_them() -> None:
    """A lock wait that runs out is still a TimeoutError; bad payloads, vendors and settings are still ValueErrors."""
    assert issubclass(errors.StorageBusy, TimeoutError) and issubclass(errors.JobNotCurrent, LookupError)
    assert issubclass(errors.DotMissing, RuntimeError)
    assert all(issubclass(cls, ValueError) for cls in (errors.LineagePayloadError, errors.UnknownVendorError, errors.ConfigError))
