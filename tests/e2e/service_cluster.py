"""Service instances as real processes on one store, a switchable RMS link, store queries.

Each instance is ``python -m tests.service_harness <compute>``: the production ``run``
path with a fast compute step. Logs go to a file per instance (a pipe could fill up and
block the process). The RMS link is a loopback TCP relay to PostgreSQL that a test can
cut (connections refused and reset) and restore, like a network partition.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import job_runs, leases, messages
from tests.integration.delivery_kit import SECRET
from tests.integration.webhook_servers import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
LEASE_TTL_S, LEASE_RENEW_S = 2.5, 0.5


@dataclass
class Instance:
    """One ``run`` process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    def get(self, path: str) -> tuple[int, bytes]:
        """GET on this instance's endpoint."""
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def healthy(self) -> bool:
        """/health answers 200."""
        try:
            return self.get("/health")[0] == 200
        except OSError:
            return False

    def events(self) -> list[dict[str, Any]]:
        """Every JSON log line so far."""
        text = self.log_path.read_text(errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def stderr_text(self) -> str:
        """The raw log."""
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout_s: float) -> int:
        """SIGTERM and wait; the exit code (or fails loudly by killing it)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not stop within {timeout_s} s") from None

    def kill(self) -> None:
        """SIGKILL: no goodbye, no lease release."""
        self.proc.kill()
        self.proc.wait()


@dataclass
class Cluster:
    """Starts instances with shared settings; stops whatever is left at the end."""

    tmp: Path
    env: dict[str, str]
    compute: str = "predict"
    instances: list[Instance] = field(default_factory=list)

    def start(self, name: str, **extra_env: str) -> Instance:
        """Start one instance (returns at once; see :meth:`wait_healthy`)."""
        port = free_port()
        log_path = self.tmp / f"{name}.log"
        env = {**self.env, **extra_env, "RMS_ML_HTTP__PORT": str(port)}
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.service_harness", self.compute],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        inst = Instance(name, port, proc, log_path)
        self.instances.append(inst)
        return inst

    def wait_healthy(self, *instances: Instance) -> None:
        """Until each answers /health (start-up takes a few seconds on a busy machine)."""
        for inst in instances:
            ok = wait_until(lambda i=inst: i.healthy() or i.proc.poll() is not None, 60)
            assert ok, f"{inst.name} never answered /health"
            assert inst.proc.poll() is None, f"{inst.name} exited: {inst.stderr_text()[-2000:]}"

    def close(self) -> None:
        """Kill what is still running (a failed test must not leave processes behind)."""
        for inst in self.instances:
            if inst.proc.poll() is None:
                inst.proc.kill()
                inst.proc.wait()


def service_env(
    tmp: Path, store_url: str, rms_url: str, webhook_url: str, schedule: str
) -> dict[str, str]:
    """Environment of every instance: fast leases, fast polling, a seconds schedule."""
    path = tmp / "schedule.toml"
    path.write_text(schedule)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RMS_ML_", "SVC_TEST_"))}
    env.update(
        PYTHONPATH=str(REPO),
        RMS_ML_STORE_URL=store_url,
        RMS_ML_RMS_URL=rms_url,
        RMS_ML_MODEL_DIR=str(tmp / "models"),
        RMS_ML_SCHEDULE_FILE=str(path),
        RMS_ML_WEBHOOK_URL=webhook_url,
        RMS_ML_WEBHOOK_SECRET=SECRET,
        RMS_ML_LOG_FORMAT="json",
        RMS_ML_SERVICE__LEASE_TTL_S=str(LEASE_TTL_S),
        RMS_ML_SERVICE__LEASE_RENEW_S=str(LEASE_RENEW_S),
        RMS_ML_SERVICE__STOP_TIMEOUT_S="6",
        RMS_ML_SERVICE__READY_CHECK_TIMEOUT_S="1",
        RMS_ML_HTTP__READY_CACHE_S="0.2",
        RMS_ML_DELIVERY__POLL_INTERVAL_S="0.1",
        RMS_ML_DELIVERY__LEASE_S="4",
    )
    return env


class TcpRelay:
    """A loopback relay to ``target``; :meth:`cut` refuses and resets, :meth:`restore` heals."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self.restore()

    def restore(self) -> None:
        """Listen again on the same port."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        with self._lock:
            self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def cut(self) -> None:
        """Close the listener (new connections refused) and reset every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            # close() alone does not wake a thread blocked in accept() on Linux: the socket
            # kept listening and let one more connection through the "outage" (a run then
            # succeeded during the cut and the outage test failed under load).
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def close(self) -> None:
        """Stop for good."""
        self._stop.set()
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut while connecting upstream
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in sel.select(timeout=1):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            sel.close()
            a.close()
            b.close()


def runs(store: Store) -> list[dict[str, Any]]:
    """Every job run, oldest slot first."""
    with store.read() as conn:
        rows = conn.execute(sa.select(job_runs).order_by(job_runs.c.as_of, job_runs.c.started_at))
        return [dict(r) for r in rows.mappings()]


def message_rows(store: Store) -> list[dict[str, Any]]:
    """Every outbox message (id, status, run, attempts)."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(
                messages.c.id,
                messages.c.status,
                messages.c.run_id,
                messages.c.lease_owner,
                messages.c.attempts,
            )
        )
        return [dict(r) for r in rows.mappings()]


def leader_row(store: Store) -> dict[str, Any] | None:
    """The leader lease row."""
    with store.read() as conn:
        row = conn.execute(sa.select(leases).where(leases.c.name == "leader")).mappings().first()
    return None if row is None else dict(row)
