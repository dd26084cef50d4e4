"""A real local git repository whose SQL changes in three commits, and a consumer source reading it.

`stg` (the repository, branch `main`): staging tables over `raw`. Its history, one branch per step
(`main` stays at the base until a test moves it):
- `rename`: `stg.customers.customer_name` renamed `full_name`;
- `join`: `stg.orders` joins `raw.customers` for the customer's name (and `amount` becomes
  `coalesce(amount, 0)`: the same edge, retyped from IDENTITY to TRANSFORMATION);
- `drop`: `stg.legacy` no longer built.
`marts` (a folder): reads `stg.customers.customer_name`, `stg.orders.amount` and `stg.legacy`, so
every step's removed or retyped edges have downstream consumers.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

CUSTOMERS = "CREATE TABLE stg.customers AS SELECT id AS customer_id, name AS customer_name, email FROM raw.customers;\n"
RENAMED = "CREATE TABLE stg.customers AS SELECT id AS customer_id, name AS full_name, email FROM raw.customers;\n"
ORDERS = "CREATE TABLE stg.orders AS SELECT id AS order_id, customer_id, amount FROM raw.orders;\n"
JOINED = (
    "CREATE TABLE stg.orders AS SELECT o.id AS order_id, o.customer_id, coalesce(o.amount, 0) AS amount, c.name AS customer_name\n"
    "FROM raw.orders AS o JOIN raw.customers AS c ON c.id = o.customer_id;\n"
)
LEGACY = "CREATE TABLE stg.legacy AS SELECT id, note FROM raw.legacy;\n"
MARTS = (
    "CREATE TABLE mart.customer_names AS SELECT customer_id, customer_name FROM stg.customers;\n"
    "CREATE TABLE mart.legacy_notes AS SELECT id, note FROM stg.legacy;\n"
    "CREATE TABLE mart.revenue AS SELECT customer_id, sum(amount) AS revenue FROM stg.orders GROUP BY customer_id;\n"
)
STEPS = ("rename", "join", "drop")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@dataclass(frozen=True)
class ReviewRepo:
    repo: Path
    marts: Path
    commits: dict[str, str]  # base, rename, join, drop -> commit

    def source(self, branch: str = "main") -> dict:
        return {"name": "stg", "kind": "git", "path": str(self.repo), "branch": branch, "subfolder": "models"}

    def marts_source(self) -> dict:
        return {"name": "marts", "path": str(self.marts)}

    def move_main(self, step: str) -> None:
        git(self.repo, "update-ref", "refs/heads/main", self.commits[step])


def make_review_repo(root: Path) -> ReviewRepo:
    repo, marts = root / "stg_repo", root / "marts"
    (repo / "models").mkdir(parents=True)
    marts.mkdir()
    (marts / "marts.sql").write_text(MARTS)
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "tester")
    versions = {
        "base": (CUSTOMERS, ORDERS, LEGACY),
        "rename": (RENAMED, ORDERS, LEGACY),
        "join": (RENAMED, JOINED, LEGACY),
        "drop": (RENAMED, JOINED, None),
    }
    commits = {}
    for step, (customers, orders, legacy) in versions.items():
        (repo / "models" / "customers.sql").write_text(customers)
        (repo / "models" / "orders.sql").write_text(orders)
        if legacy:
            (repo / "models" / "legacy.sql").write_text(legacy)
        else:
            (repo / "models" / "legacy.sql").unlink()
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "-m", step)
        commits[step] = git(repo, "rev-parse", "HEAD")
        if step != "base":
            git(repo, "branch", step)
    git(repo, "update-ref", "refs/heads/main", commits["base"])
    git(repo, "checkout", "--quiet", "-f", "main")
    return ReviewRepo(repo, marts, commits)
