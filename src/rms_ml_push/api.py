"""The operator's HTTP endpoint: ``/health``, ``/ready``, ``/info``, ``/metrics``.

A stdlib ``ThreadingHTTPServer`` (one thread per connection) is enough for a handful of
probes and scrapes, and adds no dependency. Two measured pitfalls (``design.md``) are
avoided: ``TCP_NODELAY`` is set on every accepted socket, and each response (status
line, headers and body) goes out in ONE write, so keep-alive requests do not stall 40 ms
on Nagle's algorithm and delayed ACKs.

``/info`` and ``/metrics`` take an optional bearer token (constant-time compare). The
payloads come from injected callables; ``/info`` passes the log redactor over them as
a last line of defence, so no secret or PII reaches the output.
"""

from __future__ import annotations

import hmac
import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rms_ml_push.logs import get_logger, redact
from rms_ml_push.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

_log = get_logger("rms_ml_push.api")
_JSON = "application/json"


@dataclass(frozen=True)
class Endpoints:
    """What the endpoint reports, as callables evaluated per request."""

    alive: Callable[[], bool]
    # Failing readiness parts: name -> reason. Empty mapping: ready.
    not_ready: Callable[[], Mapping[str, str]]
    info: Callable[[], Mapping[str, Any]]
    metrics: Callable[[], bytes]
    token: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    endpoints: Endpoints

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "rms-ml-push"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {
            "/health": self._health,
            "/ready": self._ready,
            "/info": self._info,
            "/metrics": self._metrics,
        }
        route = routes.get(path)
        if route is None:
            self._send(HTTPStatus.NOT_FOUND, _JSON, _json({"error": "not found"}))
            return
        if path in ("/info", "/metrics") and not self._authorised():
            self._send(
                HTTPStatus.UNAUTHORIZED,
                _JSON,
                _json({"error": "bearer token required"}),
                extra=[("WWW-Authenticate", "Bearer")],
            )
            return
        try:
            status, ctype, body = route()
        except Exception as exc:  # answer 500, keep serving, log a structured event
            _log.error("http_handler_failed", path=path, error_type=type(exc).__name__)
            status, ctype, body = 500, _JSON, _json({"error": "internal error"})
        self._send(status, ctype, body)

    def _authorised(self) -> bool:
        token = self.server.endpoints.token
        if not token:
            return True
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )

    def _health(self) -> tuple[int, str, bytes]:
        alive = self.server.endpoints.alive()
        return (200 if alive else 503), _JSON, _json({"status": "ok" if alive else "stopping"})

    def _ready(self) -> tuple[int, str, bytes]:
        failing = dict(self.server.endpoints.not_ready())
        if failing:
            return 503, _JSON, _json({"status": "not ready", "failing": failing})
        return 200, _JSON, _json({"status": "ready"})

    def _info(self) -> tuple[int, str, bytes]:
        info = dict(self.server.endpoints.info())
        return 200, _JSON, _json(redact(None, "info", info))

    def _metrics(self) -> tuple[int, str, bytes]:
        return 200, METRICS_CONTENT_TYPE, self.server.endpoints.metrics()

    def _send(
        self,
        status: int,
        ctype: str,
        body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        reason = HTTPStatus(status).phrase
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Content-Type: {ctype}",
            f"Content-Length: {len(body)}",
            "Cache-Control: no-store",
            *(f"{k}: {v}" for k, v in extra or []),
        ]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)  # one write: see the module docstring

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs are noise for probes; errors are logged as events above."""


def _json(data: Any) -> bytes:
    return json.dumps(data, default=str, sort_keys=False).encode()


class ApiServer:
    """The HTTP endpoint in a background thread."""

    def __init__(self, host: str, port: int, endpoints: Endpoints) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.endpoints = endpoints
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="http"
        )

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
