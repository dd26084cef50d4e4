"""A real stdlib HTTP server on 127.0.0.1 that answers with a function and counts requests per path.

For what the local server cannot do on purpose: 5xx, dropped connections, broken bodies, slow
(dripping) bodies, echoed request bodies, or a fixed lineage payload.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from sqlflow_assets.client import SQLFlowClient

# answer(path) -> (status, body) or None to close without answering; answer(path, request body) with
# `pass_body=True`. A body that is an iterable of chunks is sent chunk by chunk, unsized, as it yields them.
Reply = tuple[int, bytes | Iterable[bytes]] | None
Answer = Callable[..., Reply]


@dataclass(frozen=True)
class Peer:
    base_url: str
    counts: Counter
    hangups: list[str] = field(default_factory=list)  # paths whose client left before the whole answer was sent


@contextmanager
def http_peer(answer: Answer, *, pass_body: bool = False) -> Iterator[Peer]:
    """A real HTTP server on 127.0.0.1 answering POSTs with `answer(path)` (or `answer(path, body)`)."""
    peer_state: dict[str, Peer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            peer = peer_state["peer"]
            peer.counts[self.path] += 1
            reply = answer(self.path, body) if pass_body else answer(self.path)
            if reply is None:
                self.close_connection = True
                return
            status, content = reply
            self.send_response(status)
            if isinstance(content, bytes):
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return
            self.close_connection = True
            self.end_headers()
            try:
                for chunk in content:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except OSError:
                peer.hangups.append(self.path)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer_state["peer"] = Peer(f"http://127.0.0.1:{server.server_port}", Counter())
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield peer_state["peer"]
    finally:
        server.shutdown()
        server.server_close()


def peer_client(peer: Peer, **kwargs: object) -> SQLFlowClient:
    return SQLFlowClient(peer.base_url, "u|1", **({"token": "tk"} | kwargs))


def json_body(document: object) -> bytes:
    return orjson.dumps(document)
