"""A real stdlib HTTP server on 127.0.0.1 that answers with a function and counts requests per path.

For what the local server cannot do on purpose: 5xx, dropped connections, broken bodies, or a
fixed lineage payload.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from sqlflow_assets.client import SQLFlowClient

Answer = Callable[[str], "tuple[int, bytes] | None"]


@dataclass(frozen=True)
class Peer:
    base_url: str
    counts: Counter


@contextmanager
def http_peer(answer: Answer) -> Iterator[Peer]:
    """A real HTTP server on 127.0.0.1 answering POSTs with `answer(path)` (None: close without answering)."""
    counts: Counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            counts[self.path] += 1
            reply = answer(self.path)
            if reply is None:
                self.close_connection = True
                return
            status, body = reply
            self.send_response(status)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield Peer(f"http://127.0.0.1:{server.server_port}", counts)
    finally:
        server.shutdown()
        server.server_close()


def peer_client(peer: Peer, **kwargs: str) -> SQLFlowClient:
    return SQLFlowClient(peer.base_url, "u|1", **({"token": "tk"} | kwargs))


def json_body(document: object) -> bytes:
    return orjson.dumps(document)
