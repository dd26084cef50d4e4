"""Reading a folder of SQL files for submission, and the fingerprint that decides whether to resubmit."""

from __future__ import annotations

import hashlib
from pathlib import Path

SQL_SUFFIXES = {".sql"}


def read_sql_folder(folder: Path) -> list[tuple[str, bytes]]:
    """Every `.sql` file under `folder`, as (relative path, bytes), in a stable order."""
    if not folder.is_dir():
        raise FileNotFoundError(f"SQL folder {folder} does not exist")
    files = [
        (path.relative_to(folder).as_posix(), path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix.lower() in SQL_SUFFIXES
    ]
    if not files:
        raise FileNotFoundError(f"SQL folder {folder} holds no .sql files")
    return files


def fingerprint(files: list[tuple[str, bytes]]) -> str:
    """sha256 over names and contents: renaming, editing, adding or removing a file changes it."""
    digest = hashlib.sha256()
    for name, content in files:
        for part in (name.encode(), content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()
