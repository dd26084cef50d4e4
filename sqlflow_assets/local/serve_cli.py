"""`sqlflow-local`: run the local SQLFlow-compatible server.

    sqlflow-local serve [--host 127.0.0.1] [--port 8165] [--data-dir ./data/sqlflow-local]

Users come from SQLFLOW_LOCAL_USERS (`userId:secretKey[,...]`) and `<data-dir>/config.json`
(`{"users": {...}, "token_ttl_seconds": 86400, "max_upload_mb": 20, "workers": 2}`); `workers` sizes the
job lane (default: up to 4, one per CPU).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from sqlflow_assets.domain import LOCAL_PORT, TOKEN_TTL_SECONDS
from sqlflow_assets.local.auth import read_config
from sqlflow_assets.local.server import DEFAULT_MAX_UPLOAD_BYTES, create_app

DEFAULT_DATA_DIR = Path("data/sqlflow-local")


class DropQueryString(logging.Filter):
    """Access-log lines without the query string: tokens may travel there and must not be logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        return True


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sqlflow-local", description="Local SQLFlow-compatible REST server.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address this local SQLFlow server binds (default: loopback only)")
    serve.add_argument("--port", type=int, default=LOCAL_PORT, help="port of this local SQLFlow server (default %(default)s)")
    serve.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="jobs, signing key and config.json")
    return parser.parse_args(argv)


def serve(host: str, port: int, data_dir: Path) -> None:
    """Build the app from the data dir's config and run it under uvicorn."""
    config = read_config(data_dir)
    app = create_app(
        data_dir,
        token_ttl_seconds=int(config.get("token_ttl_seconds", TOKEN_TTL_SECONDS)),
        max_upload_bytes=int(config.get("max_upload_mb", 0) * 1024 * 1024) or DEFAULT_MAX_UPLOAD_BYTES,
        workers=int(config.get("workers", 0)) or None,
    )
    logging.getLogger("uvicorn.access").addFilter(DropQueryString())
    uvicorn.run(app, host=host, port=port)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    serve(args.host, args.port, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
