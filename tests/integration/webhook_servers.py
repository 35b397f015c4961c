"""Real loopback HTTP servers for delivery tests: scripted answers, hangs, huge bodies."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
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
    """What to answer: status, headers, body; ``hang`` never answers; ``stream_bytes``
    streams that many body bytes (huge responses); ``delay_s`` waits before answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: bool = False
    stream_bytes: int = 0
    delay_s: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ScriptedServer

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        answer = owner.arrived(Seen(dict(self.headers.items()), body, time.monotonic()))
        if answer.delay_s:
            time.sleep(answer.delay_s)
        if answer.hang:
            owner.closing.wait(30)
            self.close_connection = True
            return
        try:
            self._answer(answer, owner)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _answer(self, answer: Answer, owner: ScriptedServer) -> None:
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
        while sent < length and not owner.closing.is_set():
            self.wfile.write(chunk)
            sent += len(chunk)
            owner.bytes_streamed = sent


class ScriptedServer:
    """A threaded HTTP/1.1 server on 127.0.0.1; ``script(n)`` picks the n-th answer."""

    def __init__(self, script: Callable[[int], Answer], port: int = 0) -> None:
        self.script = script
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.bytes_streamed = 0
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def arrived(self, seen: Seen) -> Answer:
        """Record a request and pick its answer."""
        with self.lock:
            n = len(self.seen)
            self.seen.append(seen)
        return self.script(n)

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
