"""Issue 16: a SQL source never runs a command and never reads outside itself, tried as an attacker would.

Each test is an attack through the documented path (`read_source`, as the asset and the CLI call
it) with a real `git` and real files; the asset's own path (its `sources` run config) is in
`defs/test_sql_submission.py`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from sqlflow_assets.errors import SourceError
from sqlflow_assets.submit import source_paths, submission
from sqlflow_assets.submit.source_paths import MAX_FILE_BYTES, GlobPattern
from sqlflow_assets.submit.submission import SqlSource

SQL = b"INSERT INTO t2 (x) SELECT x FROM t1;"
SECRET = b"root:x:0:0:the secret outside the source"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder and dlt data folder (the git cache) in tmp; no server needed to read a source."""
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data"))
    return tmp_path


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def one_line_error(source: SqlSource) -> str:
    with pytest.raises(SourceError) as failure:
        submission.read_source(source)
    message = str(failure.value)
    assert "\n" not in message and message.startswith(f"SQL source {source.name!r}")
    return message


# --- 1. no value reaches git as an option or as a command-running transport ------------------------


def test_a_git_url_that_is_an_option_runs_nothing(project):
    marker = project / "marker"
    for url in (f"--upload-pack=touch {marker};true", f"-u touch {marker}"):
        message = one_line_error(SqlSource(name="evil", kind="git", url=url))
        assert "git `url` starts with '-'" in message and "upload-pack" not in message
    assert not marker.exists()


def test_command_running_transports_and_option_like_hosts_are_refused(project, tmp_path):
    marker = tmp_path / "marker"
    refused = {
        f"ext::sh -c touch% {marker}": "remote helper 'ext::'",
        f"fd::17/{marker}": "remote helper 'fd::'",
        "evil://example.com/repo.git": "transport 'evil'",
        f"ssh://-oProxyCommand=touch%20{marker}/repo.git": "host starting with '-'",
        f"-oProxyCommand=touch {marker}:repo.git": "starts with '-'",
    }
    for url, why in refused.items():
        assert why in one_line_error(SqlSource(name="evil", kind="git", url=url, branch="main"))
    assert not marker.exists()


def test_a_branch_is_a_plain_branch_name(project, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    (repo / "a.sql").write_bytes(SQL)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "1")
    source = SqlSource(name="w", kind="git", path=str(repo), branch="main")
    assert [name for name, _ in submission.read_source(source).files] == ["a.sql"]
    for branch, why in {
        f"--upload-pack=touch {tmp_path / 'marker'}": "git `branch` starts with '-'",
        "main:refs/heads/other": "is not a valid branch name",
        "a..b": "is not a valid branch name",
        "@{-1}": "git `branch` '@{-1}' is not a",
        "main\nx": "holds a control character",
    }.items():
        assert why in one_line_error(source.model_copy(update={"branch": branch}))
    assert not (tmp_path / "marker").exists()


# --- 2. only regular files inside the source's root -----------------------------------------------


def build_tree(root: Path, outside: Path) -> None:
    """The same tree for a folder and a repository: SQL, links out and in, an oversized file."""
    (root / "marts").mkdir(parents=True)
    (root / "a.sql").write_bytes(SQL)
    (root / "marts" / "b.sql").write_bytes(SQL)
    (root / "big.sql").write_bytes(b"-- " + b"x" * MAX_FILE_BYTES)
    (root / "passwd.sql").symlink_to("/etc/passwd")
    (root / "secret.sql").symlink_to(outside / "secret.sql")
    (root / "escape").symlink_to(outside)  # a folder outside
    (root / "inner.sql").symlink_to("a.sql")  # a link inside is skipped too: no link is ever followed
    (root / "notes.txt").symlink_to("a.sql")  # not matching, still listed: every link is


def test_a_folder_never_sends_what_lies_outside_it(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.sql").write_bytes(SECRET)
    folder = tmp_path / "sql"
    build_tree(folder, outside)
    os.mkfifo(folder / "pipe.sql")  # reading it would block the run

    found = submission.read_source(SqlSource(name="s", path=str(folder)))
    assert [name for name, _ in found.files] == ["a.sql", "marts/b.sql"]
    assert all(SECRET not in content and b"root:" not in content for _, content in found.files)
    link, large = source_paths.SYMLINK, source_paths.TOO_LARGE
    assert found.skipped == {
        "big.sql": large, "escape": link, "inner.sql": link, "notes.txt": link, "passwd.sql": link,
        "pipe.sql": source_paths.NOT_REGULAR, "secret.sql": link,
    }
    # a configured folder that is itself a link is read (it is the root), and still nothing under it is followed
    (tmp_path / "via").symlink_to(folder)
    assert submission.read_source(SqlSource(name="s", path=str(tmp_path / "via"))).skipped == found.skipped


def test_folder_and_git_readers_agree_on_links(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.sql").write_bytes(SECRET)
    folder, repo = tmp_path / "sql", tmp_path / "repo"
    build_tree(folder, outside)
    build_tree(repo, outside)
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "1")

    from_folder = submission.read_source(SqlSource(name="s", path=str(folder)))
    from_git = submission.read_source(SqlSource(name="s", kind="git", path=str(repo)))
    assert from_git.files == from_folder.files
    assert from_git.skipped == from_folder.skipped


def test_a_files_source_names_only_files_under_its_folder(project, tmp_path):
    base = tmp_path / "etl"
    (base / "sub").mkdir(parents=True)
    (base / "load.sql").write_bytes(SQL)
    (base / "passwd.sql").symlink_to("/etc/passwd")
    (base / "etc").symlink_to("/etc")
    source = SqlSource(name="reports", kind="files", path=str(base), files=["load.sql"])
    for entry, why in {
        "../../etc/passwd": "has a `..` part",
        "sub/../../outside.sql": "has a `..` part",
        "/etc/passwd": "is absolute",
        "~/.ssh/id_rsa": "starts with `~`",
    }.items():
        message = one_line_error(source.model_copy(update={"files": ["load.sql", entry]}))
        assert f"files entry {entry!r} {why}" in message

    found = submission.read_source(source.model_copy(update={"files": ["load.sql", "passwd.sql", "etc/passwd"]}))
    assert found.files == [("load.sql", SQL)]
    assert found.skipped == {"passwd.sql": source_paths.SYMLINK, "etc/passwd": f"{source_paths.SYMLINK} among its folders"}


# --- 3. globs in time linear in the path ---------------------------------------------------------


def old_glob_regex(pattern: str) -> re.Pattern[str]:
    """The former translation (`**/` -> `(?:.*/)?`), kept as the oracle of what globs mean."""
    out, i = [], 0
    while i < len(pattern):
        for glob, regex in (("**/", "(?:.*/)?"), ("**", ".*"), ("*", "[^/]*"), ("?", "[^/]")):
            if pattern.startswith(glob, i):
                out.append(regex)
                i += len(glob)
                break
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.IGNORECASE)


def test_globs_match_in_steps_linear_in_the_path():
    """`**/` x 10 on a 25-level path took 8.8 s (x11 per `**/`); here its steps are bounded by len(path) x len(pattern)."""
    pattern = GlobPattern("**/" * 10 + "*.sql")
    for depth in (25, 50, 100, 200):
        folders = "/".join(f"d{level}" for level in range(depth))
        for path, expected in ((f"{folders}/x.txt", False), (f"{folders}/x.SQL", True)):
            before = pattern.steps
            assert pattern.match(path) is expected
            assert pattern.steps - before <= (len(path) + 1) * (2 * len(pattern.tokens) + 2)
    star = GlobPattern("*a" * 30 + "b")  # the other backtracking shape: many `*` in one part
    assert not star.match("a" * 300) and star.steps <= 301 * (2 * len(star.tokens) + 2)

    # the meaning is the former one, on every short pattern and path over a small alphabet
    pieces = ["a", "B", "/", "*", "**", "**/", "?", ".", "["]
    patterns = [""] + [p + q + r for p in pieces for q in pieces for r in pieces]
    paths = ["", "a", "A/b", "a/a", "ab/", "/a", "a.b", "[a", "a/b/a", "b//a", "aa/ab/b.a"]
    for text in patterns:
        compiled = GlobPattern(text)
        for path in paths:
            assert compiled.match(path) == bool(old_glob_regex(text).fullmatch(path)), (text, path)


def test_a_pathological_include_reads_a_deep_folder(project, tmp_path):
    deep = tmp_path / "sql" / Path(*(f"d{level}" for level in range(25)))
    deep.mkdir(parents=True)
    (deep / "x.sql").write_bytes(SQL)
    (deep / "y.txt").write_bytes(b"x")
    source = SqlSource(name="s", path=str(tmp_path / "sql"), include=["**/" * 12 + "*.sql"], exclude=["**/" * 12 + "*.tmp"])
    assert [name.rsplit("/", 1)[1] for name, _ in submission.read_source(source).files] == ["x.sql"]


# --- 4. credentials in a git URL ------------------------------------------------------------------


def test_git_url_credentials_stay_out_of_reprs_and_errors(project):
    from sqlflow_assets_tests.support import free_port

    port = free_port()
    for url, secret in ((f"http://me:s3cret-pw@127.0.0.1:{port}/repo.git", "s3cret-pw"),
                        (f"https://ghp_T0KEN@127.0.0.1:{port}/repo.git", "ghp_T0KEN")):
        source = SqlSource(name="w", kind="git", url=url)
        outcome = submission.Outcome(source, False, "f", 0, {})
        for text in (repr(source), str(source), repr(outcome), source.describe(), one_line_error(source)):
            assert secret not in text and "127.0.0.1" in text
    for text in ("fatal: unable to access 'https://a:b@h/r' and http://tok@h/r",):
        assert submission.git_source.mask_url_secret(text, None) == "fatal: unable to access 'https://***@h/r' and http://***@h/r"


def test_a_confined_git_source_reads_local_repositories_inside_the_project_only(project, tmp_path_factory):
    """Issue 19: run config's git sources (`inside` the project): a local url or path resolves against the project folder."""
    repo = project / "repos" / "etl"
    repo.mkdir(parents=True)
    (repo / "a.sql").write_bytes(SQL)
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "1")
    for url in ("repos/etl", "./repos/etl", f"file://{repo}", str(repo)):
        found = submission.read_source(SqlSource(name="s", kind="git", url=url), inside=project)
        assert [name for name, _ in found.files] == ["a.sql"], url
    outside = tmp_path_factory.mktemp("elsewhere")
    for url in (str(outside), f"file://{outside}", "../" + outside.name, f"file://{project}/repos/../../{outside.name}"):
        with pytest.raises(SourceError, match=r"^SQL source 's': `url` .* lies outside the project folder"):
            submission.read_source(SqlSource(name="s", kind="git", url=url), inside=project)
    # a network url is not a folder of this machine: not confined here, refused or fetched by git as before
    with pytest.raises(SourceError, match="git failed"):
        submission.read_source(SqlSource(name="s", kind="git", url="git@nohost.invalid:x.git"), inside=project)
