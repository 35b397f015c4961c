"""Real loopback HTTP servers for delivery tests: scripted answers, hangs, huge bodies."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Answer:
    """What to answer: a status, headers, a body; ``hang`` never answers; ``stream_bytes``
    streams that many bytes of body (for huge responses)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: bool = False
    stream_bytes: int = 0


class ScriptedServer:
    """A threaded HTTP/1.1 server on 127.0.0.1; ``script(n)`` picks the n-th answer."""

    def __init__(self, script: Callable[[int], Answer], port: int = 0) -> None:
        self.script = script
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.bytes_streamed = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with outer.lock:
                    n = len(outer.seen)
                    outer.seen.append(Seen(dict(self.headers.items()), body, time.monotonic()))
                answer = outer.script(n)
                if answer.hang:
                    outer.closing.wait(30)
                    self.close_connection = True
                    return
                try:
                    self._answer(answer)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _answer(self, answer: Answer) -> None:
                length = answer.stream_bytes or len(answer.body)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if not answer.stream_bytes:
                    self.wfile.write(answer.body)
                    return
                chunk = b"x" * 65536
                sent = 0
                while sent < length and not outer.closing.is_set():
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    outer.bytes_streamed = sent

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                conn, addr = super().get_request()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return conn, addr

        self.server = Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def ids(self) -> list[str]:
        """webhook-id of every request, in arrival order."""
        with self.lock:
            return [s.headers.get("webhook-id", "") for s in self.seen]

    def close(self) -> None:
        """Stop and free the port."""
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


def sequence(*answers: Answer) -> Callable[[int], Answer]:
    """Answer the n-th request with the n-th answer, then repeat the last one."""
    return lambda n: answers[min(n, len(answers) - 1)]


def free_port() -> int:
    """A port that was free a moment ago (for a receiver that starts later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    """Poll ``predicate`` until true or the timeout; a safety net, not a timed assertion."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def iter_ids(servers: list[ScriptedServer]) -> Iterator[str]:
    """Every webhook-id received by any of the servers."""
    for server in servers:
        yield from server.ids()
