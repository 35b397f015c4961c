"""`config check`: one line per problem, exit 2; a good RMS passes (real SQLite/PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from rms_ml_push.cli import main
from rms_ml_push.rms.check import check_read_only
from tests.rms_fixtures import DJANGO_NAMES, create_rms


def _problems(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("config error:")]


def _django_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for canonical, name in DJANGO_NAMES.model_dump().items():
        monkeypatch.setenv(f"RMS_ML_RMS_TABLES__{canonical.upper()}", name)


def test_good_rms_with_django_names_passes(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A complete RMS under Django names: exit 0, effective settings on stdout."""
    create_rms(sqlite_url, DJANGO_NAMES, with_movements=False)
    monkeypatch.setenv("RMS_ML_RMS_URL", sqlite_url)
    _django_env(monkeypatch)
    assert main(["config", "check"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["rms_tables"]["orders"] == "orders_order"
    assert _problems(out.err) == []


@pytest.mark.pg
def test_good_postgres_rms_passes_read_only_check(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On PostgreSQL the write probe is refused, so a complete RMS passes; password masked."""
    create_rms(pg_schema_url)
    monkeypatch.setenv("RMS_ML_RMS_URL", pg_schema_url.replace("root@", "root:pw1234@"))
    assert main(["config", "check"]) == 0
    out = capsys.readouterr()
    assert "pw1234" not in out.out + out.err
    assert json.loads(out.out)["rms_url"].startswith("postgresql+psycopg://root:***@")


def test_unknown_tables_one_line_each(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two mapped names missing in the database give two lines naming their settings."""
    create_rms(sqlite_url)
    monkeypatch.setenv("RMS_ML_RMS_URL", sqlite_url)
    monkeypatch.setenv("RMS_ML_RMS_TABLES__ORDERS", "orders_order")
    monkeypatch.setenv("RMS_ML_RMS_TABLES__PAYMENTS", "payments_payment")
    assert main(["config", "check"]) == 2
    lines = _problems(capsys.readouterr().err)
    assert len(lines) == 2, lines
    assert "RMS_ML_RMS_TABLES__ORDERS" in lines[0]
    assert "'orders_order'" in lines[0]
    assert "RMS_ML_RMS_TABLES__PAYMENTS" in lines[1]


def test_missing_column_named(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A contract column missing from a table is one line naming table and column."""
    create_rms(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE orders DROP COLUMN guest_count"))
    engine.dispose()
    monkeypatch.setenv("RMS_ML_RMS_URL", sqlite_url)
    assert main(["config", "check"]) == 2
    lines = _problems(capsys.readouterr().err)
    assert lines == [
        "config error: RMS_ML_RMS_TABLES__ORDERS: table 'orders' lacks column 'guest_count' "
        "(map it with a view, see rms-data-contract.md)"
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RMS_ML_RMS_URL": "mysql://u:pw@h/db"}, "RMS_ML_RMS_URL: unsupported URL"),
        ({"RMS_ML_RMS_URL": "postgresql+psycopg://u:pw@h:port/db"}, "RMS_ML_RMS_URL: not a valid"),
        ({"RMS_ML_RMS_URL_FILE": "/nonexistent/rms_url"}, "cannot read secret file"),
        ({"RMS_ML_HTTP__TOKEN_FILE": "/nonexistent/token"}, "RMS_ML_HTTP__TOKEN_FILE"),
        ({"RMS_ML_RMS__TIMESTAMP_FLOOR": "yesterday"}, "RMS_ML_RMS__TIMESTAMP_FLOOR"),
    ],
)
def test_bad_settings_exit_2(
    env: dict[str, str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad URL, a missing secret file or a bad floor: exit 2, one line, no password."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    lines = _problems(err)
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert ":pw@" not in err
    assert "Traceback" not in err


def test_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database that does not answer is one problem line without the password."""
    monkeypatch.setenv("RMS_ML_RMS_URL", "postgresql+psycopg://ml:s3cr3tpw@127.0.0.1:1/rms")
    monkeypatch.setenv("RMS_ML_RMS__CONNECT_TIMEOUT_S", "2")
    assert main(["config", "check"]) == 2
    out = capsys.readouterr()
    lines = _problems(out.err)
    assert len(lines) == 1
    assert "unavailable" in lines[0]
    assert "127.0.0.1" in lines[0]
    assert "s3cr3tpw" not in out.err + out.out


def test_settings_beyond_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown zone, missing schedule file and unknown holiday country: three lines."""
    monkeypatch.setenv("RMS_ML_SCHEDULE_TIMEZONE", "Europe/Atlantis")
    monkeypatch.setenv("RMS_ML_SCHEDULE_FILE", str(tmp_path / "missing.toml"))
    monkeypatch.setenv("RMS_ML_HOLIDAYS__COUNTRY", "XX")
    assert main(["config", "check", "--no-rms"]) == 2
    lines = _problems(capsys.readouterr().err)
    assert len(lines) == 3, lines
    assert [line.split(":")[1].strip() for line in lines] == [
        "RMS_ML_SCHEDULE_TIMEZONE",
        "RMS_ML_SCHEDULE_FILE",
        "RMS_ML_HOLIDAYS__COUNTRY",
    ]


def test_write_probe_reports_a_writable_connection(sqlite_url: str) -> None:
    """On a plain writable connection the read-only check reports a problem (and leaves nothing)."""
    create_rms(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            problems = check_read_only(conn)
        assert len(problems) == 1
        assert "accepted a write" in problems[0]
        assert "rms_ml_push_write_probe" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
