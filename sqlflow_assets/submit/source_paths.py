"""Which files a SQL source may send: its globs, and reading only regular files inside its root.

SQLFlow is an external service, so a source must never send a file from outside itself. The
readers here open every file relative to a directory descriptor with `O_NOFOLLOW`, so no symbolic
link is ever followed, whether it points inside the root or out of it (the git reader agrees: a
repository's symbolic links are skipped too). What is not read is returned as *skipped*, path ->
reason, for the run's metadata and log:

- every symbolic link under the root (file or folder, whatever the globs say);
- a matching entry that is not a regular file (a FIFO, a device, a socket: never opened);
- a matching file over `MAX_FILE_BYTES` (skipped, not refused: one generated dump does not stop
  the rest of the source).

A `files` entry is a relative path under the source's folder: an absolute one, one starting with
`~` or one with a `..` part is refused (SourceError naming the entry), never resolved.

Globs are matched by `GlobPattern`, an automaton run over the path once (no backtracking regex),
so matching costs at most len(path) x len(pattern) steps whatever the pattern.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from sqlflow_assets.errors import SourceError

MAX_FILE_BYTES = 10 * 1024 * 1024  # a SQL file larger than this is skipped, with this reason
TOO_LARGE = f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
SYMLINK = "symbolic link (never followed)"
NOT_REGULAR = "not a regular file"

Files = list[tuple[str, bytes]]
Skipped = dict[str, str]  # relative path -> why it was not read

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

# --- globs ---------------------------------------------------------------------------------------

_LITERAL, _ONE, _STAR, _ANYTHING, _FOLDERS = range(5)  # c, `?`, `*`, `**`, `**/`
_TABLE_SIZE = 4096  # deterministic states a pattern remembers (started afresh when full: memory stays bounded)


class GlobPattern:
    """One glob, case-insensitive: `**/` any folders (or none), `**` anything, `*` and `?` within one part.

    Compiled to a list of tokens and matched by running the automaton on all its states at once
    (Thompson's construction; a state is a token's index, or `~index` inside a `**/` that has read
    a character): each character of the path moves the set of live states one step, a transition
    computed once (at most 2 x len(tokens) + 1 states) and then looked up, so a match costs at
    most (len(path) + 1) x (2 x len(tokens) + 2) steps and never backtracks. `steps` counts them
    (the test of that bound reads it). Other characters, `[` included, are literal.
    """

    def __init__(self, pattern: str) -> None:
        tokens: list[tuple[int, str]] = []
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                token = (_FOLDERS, "")
                i += 3
            elif pattern.startswith("**", i):
                token = (_ANYTHING, "")
                i += 2
            elif pattern[i] == "*":
                token = (_STAR, "")
                i += 1
            elif pattern[i] == "?":
                token = (_ONE, "")
                i += 1
            else:
                token = (_LITERAL, pattern[i].lower())
                i += 1
            if token[0] == _FOLDERS and tokens and tokens[-1][0] == _FOLDERS:
                continue  # `**/**/` is `**/`
            tokens.append(token)
        self.pattern = pattern
        self.tokens = tokens
        self.steps = 0
        # the states reachable from each state without reading a character (`*`, `**`, `**/` may match nothing)
        self._free: list[tuple[int, ...]] = []
        for start in range(len(tokens) + 1):
            reach = [start]
            while reach[-1] < len(tokens) and tokens[reach[-1]][0] in (_STAR, _ANYTHING, _FOLDERS):
                reach.append(reach[-1] + 1)
            self._free.append(tuple(reach))
        self._start = frozenset(self._free[0])
        # the automaton made deterministic as it is met: state number -> its set, its transitions by character
        self._sets: list[frozenset[int]] = [self._start]
        self._rows: list[dict[str, int]] = [{}]
        self._ids: dict[frozenset[int], int] = {self._start: 0}

    def __repr__(self) -> str:
        return f"GlobPattern({self.pattern!r})"

    def match(self, path: str) -> bool:
        """Whether the whole of `path` matches."""
        state, rows, steps = 0, self._rows, 1
        for char in path:
            following = rows[state].get(char)
            if following is None:  # a transition not met yet: computed once, at most len(states) steps
                states = self._sets[state]
                steps += len(states)
                if len(self._sets) >= _TABLE_SIZE - 1:  # full: start afresh, so memory stays bounded
                    self._sets, self._rows, self._ids = [self._start], [{}], {self._start: 0}
                    state, rows = self._number(states), self._rows
                following = self._number(self._advance(states, char))
                rows[state][char] = following
            state = following
            steps += 1
            if not self._sets[state]:
                break
        self.steps += steps
        return len(self.tokens) in self._sets[state]

    def _number(self, states: frozenset[int]) -> int:
        """The deterministic state for a set of automaton states."""
        known = self._ids.get(states)
        if known is None:
            known = self._ids[states] = len(self._sets)
            self._sets.append(states)
            self._rows.append({})
        return known

    def _advance(self, states: frozenset[int], char: str) -> frozenset[int]:
        tokens, free, end, lower = self.tokens, self._free, len(self.tokens), char.lower()
        following: set[int] = set()
        for state in states:
            if state < 0:  # inside a `**/` that has read something: it ends only after a `/`
                state = ~state
            elif state == end:
                continue
            kind, literal = tokens[state]
            if kind == _LITERAL:
                if lower == literal:
                    following.update(free[state + 1])
            elif kind == _ONE:
                if char != "/":
                    following.update(free[state + 1])
            elif kind == _STAR:
                if char != "/":
                    following.update(free[state])
            elif kind == _ANYTHING:
                following.update(free[state])
            else:  # _FOLDERS: anything, left only right after a `/`
                following.add(~state)
                if char == "/":
                    following.update(free[state + 1])
        return frozenset(following)


def glob_matcher(include: Iterable[str], exclude: Iterable[str]) -> Callable[[str], bool]:
    """Whether a relative path matches one of `include` and none of `exclude`."""
    included, excluded = [GlobPattern(p) for p in include], [GlobPattern(p) for p in exclude]
    return lambda path: any(p.match(path) for p in included) and not any(p.match(path) for p in excluded)


# --- reading -------------------------------------------------------------------------------------


def read_folder(root: Path, matches: Callable[[str], bool]) -> tuple[Files, Skipped]:
    """Every regular file under `root` whose relative path `matches`, and what was skipped.

    `root` itself may be a symbolic link (the configured folder); nothing under it is followed.
    """
    files: Files = []
    skipped: Skipped = {}
    top = root.resolve()
    for folder, dirnames, filenames, folder_fd in os.fwalk(top, follow_symlinks=False):
        relative_folder = Path(folder).relative_to(top).as_posix()
        prefix = "" if relative_folder == "." else f"{relative_folder}/"
        for name in dirnames:  # fwalk lists links to folders here and never descends into them
            if stat.S_ISLNK(_mode(name, folder_fd) or 0):
                skipped[f"{prefix}{name}"] = SYMLINK
        for name in filenames:
            relative = f"{prefix}{name}"
            mode = _mode(name, folder_fd)
            if mode is None:
                continue  # removed since the listing
            if stat.S_ISLNK(mode):
                skipped[relative] = SYMLINK
            elif matches(relative):
                content, reason = _read_regular(name, folder_fd) if stat.S_ISREG(mode) else (b"", NOT_REGULAR)
                if reason:
                    skipped[relative] = reason
                else:
                    files.append((relative, content))
    files.sort(key=lambda file: file[0].split("/"))  # the order of the former `sorted(rglob())`: the fingerprint keeps
    return files, dict(sorted(skipped.items()))


def _mode(name: str, folder_fd: int) -> int | None:
    try:
        return os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None


def read_entries(source_name: str, base: Path, entries: Iterable[str]) -> tuple[Files, Skipped]:
    """The files named by `entries`, each a relative path under `base`, never through a symbolic link.

    A refused entry (absolute, `~`, `..`, empty) or a missing file is a SourceError naming it; an
    entry that is a symbolic link, or has one among its folders, is skipped.
    """
    entries = list(entries)
    for entry in entries:
        _check_entry(source_name, entry)
    files: Files = []
    skipped: Skipped = {}
    try:
        base_fd = os.open(base.resolve(), os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise SourceError(message=f"SQL source {source_name!r}: folder {base} does not exist") from None
    try:
        for entry in entries:
            name = PurePosixPath(entry).as_posix()
            *folders, leaf = PurePosixPath(entry).parts
            try:
                content, reason = _read_under(base_fd, folders, leaf)
            except FileNotFoundError:
                raise SourceError(message=f"SQL source {source_name!r}: file {base / name} does not exist") from None
            except NotADirectoryError:
                raise SourceError(message=f"SQL source {source_name!r}: file {base / name} does not exist (a folder of it is a file)") from None
            if reason:
                skipped[name] = reason
            else:
                files.append((name, content))
    finally:
        os.close(base_fd)
    return sorted(files), skipped


def _check_entry(source_name: str, entry: str) -> None:
    path = PurePosixPath(entry)
    if entry.startswith("~") or path.is_absolute():
        why = "is absolute" if path.is_absolute() else "starts with `~`"
        raise SourceError(message=f"SQL source {source_name!r}: files entry {entry!r} {why}; entries are relative to the source's `path`")
    if ".." in path.parts:
        raise SourceError(message=f"SQL source {source_name!r}: files entry {entry!r} has a `..` part; entries must stay under the source's `path`")
    if not path.parts or path.parts == (".",) or "\0" in entry:
        raise SourceError(message=f"SQL source {source_name!r}: files entry {entry!r} names no file")


def _read_under(base_fd: int, folders: list[str], leaf: str) -> tuple[bytes, str | None]:
    """Open `folders/leaf` below `base_fd` one part at a time, refusing to follow any link."""
    fds: list[int] = []
    try:
        at = base_fd
        for folder in folders:
            try:
                at = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=at)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR) and stat.S_ISLNK(os.stat(folder, dir_fd=at, follow_symlinks=False).st_mode):
                    return b"", f"{SYMLINK} among its folders"
                raise
            fds.append(at)
        return _read_regular(leaf, at)
    finally:
        for fd in fds:
            os.close(fd)


def _read_regular(name: str, folder_fd: int) -> tuple[bytes, str | None]:
    """The bytes of `name` in `folder_fd` if it is a regular file within the size limit, else why not."""
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=folder_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link (made since the listing, or named in `files`)
            return b"", SYMLINK
        if error.errno in (errno.ENXIO, errno.EACCES) and not stat.S_ISREG(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode):
            return b"", NOT_REGULAR  # a socket, or a FIFO nobody writes to
        raise
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return b"", NOT_REGULAR
        if status.st_size > MAX_FILE_BYTES:
            return b"", TOO_LARGE
        with os.fdopen(fd, "rb", closefd=False) as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:  # it grew since fstat
            return b"", TOO_LARGE
        return content, None
    finally:
        os.close(fd)
