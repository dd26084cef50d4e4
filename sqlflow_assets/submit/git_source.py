"""Reading a git SQL source: fetch one branch into a bare cache repository, read its blobs.

Its `url`, `branch` and `subfolder` come from config, env or a run's config that anyone with the
Dagster UI can type, so none of them may reach git as an option or pick a transport that runs a
command:

- `url` and `branch` starting with `-` are refused before git runs, every positional argument
  follows `--` (or `--end-of-options`), pathspecs are literal (`GIT_LITERAL_PATHSPECS`);
- `branch` must pass `git check-ref-format --branch` and come back unchanged (no `@{-1}`);
- `url` is one of the transports a person would name: `https://`, `http://`, `ssh://`, `git://`,
  `file://`, scp-like `user@host:path`, or a local path; remote helpers (`ext::`, `fd::`, any
  `<name>::`) and other schemes are refused, and `GIT_ALLOW_PROTOCOL` makes git itself refuse
  anything else (a redirect, a submodule);
- credentials in a URL (`https://user:token@host/...`) stay out of every message, repr, log and
  metadata (`public_url`, `mask_url_secret`), and out of the cache's name.

Like the folder reader, it sends only regular files: symbolic links and submodules are skipped
(and listed), as are blobs over `source_paths.MAX_FILE_BYTES`.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from filelock import FileLock

from sqlflow_assets import config
from sqlflow_assets.errors import SourceError
from sqlflow_assets.submit.source_paths import (
    MAX_FILE_BYTES,
    SYMLINK,
    TOO_LARGE,
    Files,
    Skipped,
)

if TYPE_CHECKING:
    from sqlflow_assets.submit.submission import SqlSource

GIT_TIMEOUT = 600.0  # seconds one git command may take (a first fetch of a big repository)
SCHEMES = ("https", "http", "ssh", "git", "file", "git+ssh", "ssh+git")
ALLOWED_PROTOCOLS = "https:http:ssh:git:file"  # GIT_ALLOW_PROTOCOL: git refuses every other transport
_HELPER = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.-]*::")  # git's `<transport>::<address>` (ext::, fd::)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_SCP_HOST = re.compile(r"(?:[^@/:]*@)?(\[[^\]/]*\]|[^/:\[]+):")  # git: a colon before any slash is ssh `host:path`
SUBMODULE = "submodule (not read)"


def check_git_source(source: SqlSource) -> None:
    """Refuse a url or branch git could read as an option or as a command-running transport."""
    for field_name, value in (("url", source.url), ("branch", source.branch)):
        if value is not None and (value.startswith("-") or any(c in value for c in "\0\r\n")):
            what = "starts with '-' (git would read it as an option)" if value.startswith("-") else "holds a control character"
            raise SourceError(message=f"SQL source {source.name!r}: git `{field_name}` {what}; refused")
    if source.url:
        _check_transport(source.name, source.url)
    if source.branch:
        _check_branch(source)


def _check_transport(name: str, url: str) -> None:
    allowed = "https, http, ssh, git, user@host:path, file:// or a local path"
    helper = _HELPER.match(url)
    if helper:
        raise SourceError(message=f"SQL source {name!r}: git `url` uses the remote helper {helper.group(0)!r}; allowed: {allowed}")
    scheme = _SCHEME.match(url)
    if scheme:
        if scheme.group(1).lower() not in SCHEMES:
            raise SourceError(message=f"SQL source {name!r}: git `url` uses the transport {scheme.group(1)!r}; allowed: {allowed}")
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            raise SourceError(message=f"SQL source {name!r}: git `url` is not a readable URL") from None
    else:
        scp = _SCP_HOST.match(url)
        host = scp.group(1) if scp else ""
    if host.startswith("-"):
        raise SourceError(message=f"SQL source {name!r}: git `url` has a host starting with '-' (ssh would read it as an option); refused")


def is_remote(url: str) -> bool:
    """Whether git reads `url` over a network transport (`scheme://`, scp-like `host:path`), not as a local path."""
    scheme = _SCHEME.match(url)
    if scheme:
        return scheme.group(1).lower() != "file"
    return _SCP_HOST.match(url) is not None


def _check_branch(source: SqlSource) -> None:
    branch = source.branch or ""
    checked = _git(source, ["check-ref-format", "--branch", branch], refuse="is not a valid branch name").decode().strip()
    if checked != branch:  # `@{-1}` and the like name another branch
        raise SourceError(message=f"SQL source {source.name!r}: git `branch` {branch[:100]!r} is not a plain branch name")


def read_git(source: SqlSource, remote: str, matches: Callable[[str], bool]) -> tuple[Files, Skipped, str]:
    """Fetch the branch into a bare cache repository and read `subfolder` at the fetched commit.

    One cache per remote (named after it without credentials) under dlt's data folder, locked
    while used, so repeated submissions fetch only new objects and two runs never fetch into one
    repository at once. Returns the files, what was skipped, and the commit.
    """
    check_git_source(source)
    cache = config.git_cache_dir() / hashlib.sha256(public_url(remote).encode()).hexdigest()[:16]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{cache}.lock"):
        if not (cache / "HEAD").exists():
            _git(source, ["init", "--bare", "--quiet", "--", str(cache)])
        ref = f"refs/heads/{source.branch}" if source.branch else "HEAD"
        _git(source, ["-C", str(cache), "fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--depth", "1", "--", remote, ref])
        commit = _git(source, ["-C", str(cache), "rev-parse", "--verify", "--end-of-options", "FETCH_HEAD^{commit}"]).decode().strip()
        prefix = (source.subfolder or "").strip("/")
        listing = _git(
            source, ["-C", str(cache), "ls-tree", "-r", "-z", "-l", "--end-of-options", commit, "--", f"{prefix}/" if prefix else "."]
        )
        blobs, skipped = [], {}
        for entry in filter(None, listing.split(b"\0")):
            meta, path = entry.decode(errors="surrogateescape").split("\t", 1)
            mode, kind, sha, size = meta.split()
            relative = path[len(prefix) + 1 :] if prefix else path
            if mode == "120000":
                skipped[relative] = SYMLINK  # every link, as the folder reader lists them
            elif not matches(relative):
                continue
            elif kind != "blob":
                skipped[relative] = SUBMODULE
            elif int(size) > MAX_FILE_BYTES:
                skipped[relative] = TOO_LARGE
            else:
                blobs.append((relative, sha))
        contents = _git_blobs(source, cache, [sha for _, sha in blobs])
    return sorted((name, contents[sha]) for name, sha in blobs), dict(sorted(skipped.items())), commit


def remote_head(source: SqlSource, remote: str) -> str | None:
    """The commit the source's branch (else the remote's HEAD) points at, by one `git ls-remote`; None when the remote lacks it."""
    check_git_source(source)
    ref = f"refs/heads/{source.branch}" if source.branch else "HEAD"
    listing = _git(source, ["ls-remote", "--", remote, ref]).decode()
    for line in listing.splitlines():
        commit, _, name = line.partition("\t")
        if name == ref:
            return commit
    return None


def _git_blobs(source: SqlSource, repository: Path, shas: list[str]) -> dict[str, bytes]:
    """The contents of blobs in one `git cat-file --batch` call, not one process per file."""
    if not shas:
        return {}
    out = _git(source, ["-C", str(repository), "cat-file", "--batch"], stdin="\n".join(shas).encode() + b"\n")
    contents, at = {}, 0
    while at < len(out):
        header_end = out.index(b"\n", at)
        sha, _, size = out[at:header_end].decode().split()
        start = header_end + 1
        contents[sha] = out[start : start + int(size)]
        at = start + int(size) + 1
    return contents


def _git(source: SqlSource, args: list[str], stdin: bytes | None = None, refuse: str | None = None) -> bytes:
    """Run git without prompts, on the allowed transports only; a failure is a SourceError quoting git, credentials masked.

    `refuse`: the failure is a refused value (`check-ref-format`), said as "git `branch` ... <refuse>".
    """
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "true",
        "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS,
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_LITERAL_PATHSPECS": "1",
    }
    try:
        done = subprocess.run(["git", *args], check=False, input=stdin, capture_output=True, env=env, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise SourceError(message="git is not installed (needed by git SQL sources)") from None
    except subprocess.TimeoutExpired:
        raise SourceError(message=f"SQL source {source.name!r} ({source.describe()}): a git command took over {GIT_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        if refuse:
            raise SourceError(message=f"SQL source {source.name!r}: git `branch` {(source.branch or '')[:100]!r} {refuse}")
        message = mask_url_secret(done.stderr.decode(errors="replace").strip(), source.url)
        message = " ".join(message.split())  # one line
        raise SourceError(message=f"SQL source {source.name!r} ({source.describe()}): git failed: {message[:500]}")
    return done.stdout


def public_url(url: str) -> str:
    """`url` without its user info: a token in `https://user:token@host/repo` stays out of every message."""
    try:
        return config.url_credentials(url)[0]
    except ValueError:  # not a URL Python can split (a bad IPv6 host, a bad port): mask what looks like user info
        return config.mask_url(url)


def mask_url_secret(text: str, url: str | None) -> str:
    """`text` masked by `config.mask_url`, and also the user info and password of `url` where git quotes them bare."""
    try:
        credentials = config.url_credentials(url)[1] if url else None
    except ValueError:
        credentials = None
    if credentials:
        user, password = credentials
        for secret in {f"{user}:{password}@", f"{user}@", password} - {"", "@", ":@"}:
            for form in {secret, quote(secret, safe="@")}:
                text = text.replace(form, "***@" if form.endswith("@") else "***")
    return config.mask_url(text)
