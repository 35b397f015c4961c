"""``rms-ml-push jobs list`` and schedule errors through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rms_ml_push.cli import main
from rms_ml_push.jobs.catalogue import job_names
from rms_ml_push.jobs.schedule import JOB_NAMES
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import job_runs


def test_jobs_list_json_shows_schedule_last_run_and_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each scheduled job with its cron, full rule, last run status/duration and next run."""
    url = f"sqlite:///{tmp_path / 'jl.sqlite3'}"
    monkeypatch.setenv("RMS_ML_STORE_URL", url)
    store = Store.from_url(url)
    migrate(store)
    started = datetime(2024, 6, 12, 6, tzinfo=UTC)
    with store.write() as conn:
        conn.execute(
            job_runs.insert().values(
                id="run_a",
                job="demand",
                as_of=started,
                scope="all",
                trigger="schedule",
                status="succeeded",
                started_at=started,
                heartbeat_at=started,
                finished_at=started + timedelta(seconds=42.5),
            )
        )
    store.dispose()
    assert main(["jobs", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = {row["job"]: row for row in json.loads(out)}
    # The default schedule names every designed job; those this build lacks are skipped.
    assert set(rows) == set(job_names())
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    skipped = {e["job"] for e in logged if e["event"] == "schedule_entry_skipped"}
    assert skipped == set(JOB_NAMES) - set(job_names())
    demand = rows["demand"]
    assert (demand["cron"], demand["full"], demand["status"]) == (
        "0 6 * * *",
        "0 6 * * sun",
        "succeeded",
    )
    assert demand["last_run"]["duration_s"] == 42.5
    assert demand["next_run"].endswith("T06:00:00.000Z")


def test_jobs_list_shows_never_run_jobs_and_boolean_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job that never ran has no last run; full = true prints as a boolean."""
    path = tmp_path / "s.toml"
    path.write_text('[[entries]]\njob = "demand"\ncron = "0 7 * * mon"\nfull = true\n')
    monkeypatch.setenv("RMS_ML_SCHEDULE_FILE", str(path))
    assert main(["jobs", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["job"], row["full"], row["last_run"], row["status"]) == ("demand", True, None, None)


def test_jobs_list_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The table form has a header and one line per job."""
    assert main(["jobs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["JOB", "SCOPE", "CRON"]
    assert len(lines) == 1 + len(job_names())


def test_unregistered_job_in_schedule_is_exit_2_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A schedule naming an unknown job: exit 2, one config error line, no traceback."""
    path = tmp_path / "s.toml"
    path.write_text('[[entries]]\njob = "weather"\ncron = "0 6 * * *"\n')
    monkeypatch.setenv("RMS_ML_SCHEDULE_FILE", str(path))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if line.startswith("config error:")]
    assert len(problems) == 1
    assert "'weather' is not registered" in problems[0]
    assert "Traceback" not in err
