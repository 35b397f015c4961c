"""The delivery commands as an operator runs them: subprocesses, real store and servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rms_ml_push.cli import main
from rms_ml_push.delivery.receiver import Receiver
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import messages
from tests.integration.delivery_kit import SECRET, endpoint, enqueue_many, make_settings, open_store
from tests.integration.webhook_servers import Answer, ScriptedServer, sequence, wait_until


def _env(tmp_path: Path, endpoints: list[dict[str, Any]], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RMS_ML_")}
    env |= {
        "RMS_ML_STORE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "RMS_ML_ENDPOINTS": json.dumps(endpoints),
        "RMS_ML_LOG_FORMAT": "json",
        "RMS_ML_DELIVERY__POLL_INTERVAL_S": "0.05",
        **extra,
    }
    return env


def _cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a subprocess (exit codes, signals); slow, so used sparingly."""
    result = subprocess.run(
        [sys.executable, "-m", "rms_ml_push", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stderr
    return result


def _run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    *args: str,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in this process (same code path as the installed command, much faster)."""
    for key, value in env.items():
        if key.startswith("RMS_ML_"):
            monkeypatch.setenv(key, value)
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return subprocess.CompletedProcess(list(args), code, out, err)


def test_ping_deliver_inspect_repush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ping -> deliver -> messages list/show -> repush -> deliver again with the same id."""

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return _run(monkeypatch, capsys, env, *args)

    receiver = Receiver([SECRET], quiet=True).start()
    try:
        env = _env(tmp_path, [endpoint("rms", receiver.url)])
        ping = run(env, "endpoints", "ping", "rms")
        assert ping.returncode == 0, ping.stderr
        msg_id = json.loads(ping.stdout)["queued"]
        assert run(env, "deliver", "--until-empty", "--max-seconds", "30").returncode == 0
        listed = json.loads(run(env, "messages", "list", "--json").stdout)
        assert [(m["id"], m["type"], m["status"]) for m in listed] == [
            (msg_id, "webhook.test", "delivered")
        ]
        shown = json.loads(run(env, "messages", "show", msg_id, "--json").stdout)
        assert [a["status_code"] for a in shown["attempt_log"]] == [200]
        repush = run(env, "repush", msg_id, "--json")
        assert json.loads(repush.stdout) == [{"id": msg_id, "outcome": "queued"}]
        assert run(env, "deliver", "--until-empty", "--max-seconds", "30").returncode == 0
        endpoints = run(env, "endpoints", "list", "--json")
    finally:
        receiver.close()
    assert receiver.state.counts == {msg_id: 2}  # the same webhook-id both times
    (row,) = json.loads(endpoints.stdout)
    assert set(row) >= {"name", "url", "enabled", "breaker", "last_success_at", "last_error"}
    assert row["enabled"] is True
    assert SECRET[6:] not in endpoints.stdout + endpoints.stderr


def test_bulk_repush_dry_run_and_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """repush --status needs --since; --dry-run queues nothing; unknown endpoint is exit 2."""

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return _run(monkeypatch, capsys, env, *args)

    env = _env(tmp_path, [endpoint("rms", "http://127.0.0.1:9/")])
    assert run(env, "repush", "--status", "dead").returncode == 2
    dry = run(env, "repush", "--status", "dead", "--since", "2020-01-01", "--dry-run", "--json")
    assert dry.returncode == 0
    assert json.loads(dry.stdout) == []
    bad = run(env, "endpoints", "disable", "nope")
    assert bad.returncode == 2
    assert "no endpoint named 'nope'" in bad.stderr


def test_until_empty_times_out_with_exit_3(tmp_path: Path) -> None:
    """deliver --until-empty exits 3 when --max-seconds passes with messages pending."""
    server = ScriptedServer(sequence(Answer(500)))
    try:
        eps = [endpoint("rms", server.url)]
        env = _env(tmp_path, eps)
        store = open_store(env["RMS_ML_STORE_URL"])
        enqueue_many(store, make_settings(env["RMS_ML_STORE_URL"], eps), 1)
        store.dispose()
        result = _cli(env, "deliver", "--until-empty", "--max-seconds", "1")
    finally:
        server.close()
    assert result.returncode == 3
    assert "pending" in result.stdout


def test_disable_then_enable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator's disable shows in endpoints list; enable restores it."""

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return _run(monkeypatch, capsys, env, *args)

    env = _env(tmp_path, [endpoint("rms", "http://127.0.0.1:9/")])
    assert json.loads(run(env, "endpoints", "disable", "rms").stdout)["changed"] is True
    (row,) = json.loads(run(env, "endpoints", "list", "--json").stdout)
    assert row["enabled"] is False
    assert json.loads(run(env, "endpoints", "enable", "rms").stdout)["changed"] is True


def test_sigkill_mid_batch_then_restart_delivers_everything(tmp_path: Path) -> None:
    """A dispatcher killed mid-batch and restarted: all delivered, duplicates share ids."""
    server = ScriptedServer(sequence(Answer(200, delay_s=0.02)))
    eps = [endpoint("rms", server.url, max_in_flight=4)]
    env = _env(tmp_path, eps, RMS_ML_DELIVERY__LEASE_S="2")
    store: Store = open_store(env["RMS_ML_STORE_URL"])
    settings = make_settings(env["RMS_ML_STORE_URL"], eps)
    ids = enqueue_many(store, settings, 150)
    cmd = [sys.executable, "-m", "rms_ml_push", "deliver", "--until-empty", "--max-seconds", "60"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(server.seen) >= 30, 30)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        with store.read() as conn:
            left = conn.execute(
                sa.select(sa.func.count()).where(messages.c.status != "delivered")
            ).scalar()
        assert left, "the kill came too late to test anything"
        time.sleep(0.1)
        restart = _cli(env, "deliver", "--until-empty", "--max-seconds", "60")
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert restart.returncode == 0, restart.stderr
    with store.read() as conn:
        found = dict(conn.execute(sa.select(messages.c.id, messages.c.status)).all())
    store.dispose()
    assert set(found.values()) == {"delivered"}
    received = server.ids()
    assert set(received) == set(ids)  # everything arrived; any duplicate reuses its id
    assert len(received) >= len(ids)


@pytest.mark.parametrize("args", [["store", "migrate"], ["store", "prune"]])
def test_store_commands(
    tmp_path: Path,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """store migrate and prune work without RMS_ML_RMS_URL and print JSON."""
    result = _run(monkeypatch, capsys, _env(tmp_path, []), *args)
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), dict)
