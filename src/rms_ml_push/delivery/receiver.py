"""The reference receiver: what an RMS endpoint must do, runnable for development and demos.

Verifies the Standard Webhooks signature (constant time, any of several secrets),
rejects timestamps more than 5 minutes from its clock, de-duplicates on
``webhook-id``, optionally fails a fraction of requests with 503, and logs each
delivery. Built on the standard library's threaded HTTP server with ``TCP_NODELAY``
on every accepted socket and one write per response (design.md, "Pitfalls": without
them each keep-alive request stalls about 40 ms on Nagle and delayed ACKs).
"""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from structlog.stdlib import BoundLogger

from rms_ml_push.clock import Clock, SystemClock
from rms_ml_push.delivery.signing import parse_secrets, verify
from rms_ml_push.logs import get_logger

TOLERANCE_S = 300
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class ReceiverState:
    """What the receiver has accepted; thread-safe."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[str, int] = field(default_factory=dict)  # webhook-id -> deliveries seen
    bodies: dict[str, bytes] = field(default_factory=dict)  # first body per webhook-id
    rejected: int = 0
    failed: int = 0

    def record(self, msg_id: str, body: bytes) -> bool:
        """Count a verified delivery; True if this webhook-id is new."""
        with self.lock:
            seen = self.counts.get(msg_id, 0)
            self.counts[msg_id] = seen + 1
            if not seen:
                self.bodies[msg_id] = body
            return not seen


@dataclass(frozen=True)
class _Config:
    keys: tuple[bytes, ...]
    fail_rate: float
    clock: Clock
    rng: random.Random
    log: BoundLogger
    quiet: bool


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], config: _Config, state: ReceiverState) -> None:
        self.config = config
        self.state = state
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as senders pool connections
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's access log; deliveries are logged as events instead."""

    def do_POST(self) -> None:
        """Verify, de-duplicate, answer."""
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, {"error": "body too large"}, close=True)
            return
        body = self.rfile.read(length)
        cfg, state = self.server.config, self.server.state
        problem = self._problem(body, cfg)
        if problem is not None:
            with state.lock:
                state.rejected += 1
            cfg.log.warning("webhook_rejected", reason=problem)
            self._reply(401 if "signature" in problem else 400, {"error": problem})
            return
        if cfg.fail_rate and cfg.rng.random() < cfg.fail_rate:
            with state.lock:
                state.failed += 1
            self._reply(503, {"error": "simulated failure (--fail-rate)"})
            return
        msg_id = self.headers["webhook-id"]
        new = state.record(msg_id, body)
        if not cfg.quiet:
            cfg.log.info("webhook_received", msg_id=msg_id, type=_type_of(body), duplicate=not new)
        self._reply(200, {"ok": True, "duplicate": not new})

    def _problem(self, body: bytes, cfg: _Config) -> str | None:
        msg_id = self.headers.get("webhook-id")
        ts_text = self.headers.get("webhook-timestamp", "")
        signature = self.headers.get("webhook-signature")
        if not msg_id or not signature or not ts_text.isdigit():
            return "missing or malformed webhook headers"
        timestamp = int(ts_text)
        if abs(cfg.clock.now().timestamp() - timestamp) > TOLERANCE_S:
            return "timestamp outside the 5-minute tolerance"
        if not verify(cfg.keys, msg_id, timestamp, body, signature):
            return "no matching signature"
        return None

    def _reply(self, status: int, payload: dict[str, Any], *, close: bool = False) -> None:
        data = json.dumps(payload).encode()
        head = (
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            + ("Connection: close\r\n" if close else "")
            + "\r\n"
        )
        # One write: headers and body leave in one segment.
        self.wfile.write(head.encode("latin-1") + data)
        if close:
            self.close_connection = True


def _type_of(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("type")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class Receiver:
    """A running reference receiver; ``state`` holds what it accepted."""

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        fail_rate: float = 0.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        quiet: bool = False,
    ) -> None:
        config = _Config(
            keys=parse_secrets(secrets),
            fail_rate=fail_rate,
            clock=clock or SystemClock(),
            rng=rng or random.Random(),
            log=get_logger("rms_ml_push.receiver"),
            quiet=quiet,
        )
        self.state = ReceiverState()
        self._host = host
        self._server = _Server((host, port), config, self.state)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        return f"http://{self._host}:{self.port}/"

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`close` from another."""
        self._server.serve_forever(poll_interval=0.2)

    def start(self) -> Receiver:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="receiver", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
