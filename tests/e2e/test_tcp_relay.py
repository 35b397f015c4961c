"""The fault tests' RMS link: a cut must refuse every new connection until restored."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.e2e.service_cluster import TcpRelay


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A loopback echo server standing in for PostgreSQL."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                while data := conn.recv(1024):
                    conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()
    stop.set()
    with contextlib.suppress(OSError):
        server.shutdown(socket.SHUT_RDWR)
    server.close()


def _round_trip(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"ping")
        return conn.recv(16)


def test_cut_refuses_new_connections_until_restored(echo: tuple[str, int]) -> None:
    """Its accept thread is blocked when the cut comes: on Linux a plain close() left the
    socket listening, and the first connection of the outage got through."""
    relay = TcpRelay(echo)
    try:
        assert _round_trip(relay.port) == b"ping"
        time.sleep(0.1)  # the accept thread is back in accept()
        relay.cut()
        for _ in range(3):
            with pytest.raises(OSError):
                _round_trip(relay.port)
        relay.restore()
        assert _round_trip(relay.port) == b"ping"
    finally:
        relay.close()
