"""The RMS engine: read-only at the session level, timed out, pooled with pre-ping.

PostgreSQL sessions open with ``default_transaction_read_only=on`` and a
``statement_timeout`` passed as libpq ``options``, so they hold from the first statement
and through a pgbouncer in session mode; SQLite connections run ``PRAGMA query_only=ON``
and a busy timeout. A write by mistake fails loudly (rms-data-contract.md, "Connection
rules"). Errors become :class:`RmsUnavailableError` whose message names host and database,
never the password.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from rms_ml_push.config import RmsSettings, mask_url
from rms_ml_push.errors import RmsUnavailableError


def create_rms_engine(url: str, rms: RmsSettings | None = None) -> Engine:
    """A read-only engine on the RMS database at ``url``; connects lazily."""
    rms = rms if rms is not None else RmsSettings()
    try:
        parsed = sa.engine.make_url(url)
    except (ValueError, sa.exc.ArgumentError):  # a port that is not a number: ValueError
        raise RmsUnavailableError("RMS_ML_RMS_URL: not a valid database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, rms)
    if backend == "postgresql":
        return _postgres_engine(parsed, rms)
    raise RmsUnavailableError(f"RMS_ML_RMS_URL: unsupported database {backend!r}")


def _postgres_engine(url: sa.engine.URL, rms: RmsSettings) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # connect_args replace URL query parameters of the same name, so merge `options`
    # (a test or operator may already pass e.g. -csearch_path=...).
    query = dict(url.query)
    given = query.pop("options", "")
    given_text = " ".join(given) if isinstance(given, tuple) else given
    timeout_ms = int(rms.statement_timeout_s * 1000)
    # cursor_tuple_fraction=1: extracts read every row of their server-side cursor, so plan
    # for total time, not for the first rows (measured: nested loops 5x slower otherwise).
    options = (
        f"{given_text} -c default_transaction_read_only=on -c statement_timeout={timeout_ms}"
        " -c cursor_tuple_fraction=1"
    )
    connect_args: dict[str, Any] = {
        "options": options.strip(),
        "connect_timeout": max(1, math.ceil(rms.connect_timeout_s)),
        "application_name": "rms-ml-push",
    }
    return sa.create_engine(
        url.set(query=query),
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=rms.pool_size,
        max_overflow=0,
        pool_timeout=max(rms.connect_timeout_s, 30.0),
        pool_recycle=1800,
    )


def _sqlite_engine(url: sa.engine.URL, rms: RmsSettings) -> Engine:
    database = url.database or ""
    # sqlite3 would silently create an empty file; an RMS that is not there is unreachable.
    if database in ("", ":memory:") or (
        not database.startswith("file:") and not Path(database).expanduser().is_file()
    ):
        raise RmsUnavailableError(f"RMS database file not found: {database or '(empty)'}")
    engine = sa.create_engine(
        url,
        connect_args={"timeout": rms.busy_timeout_ms / 1000, "check_same_thread": False},
        pool_pre_ping=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # SQLAlchemy, not pysqlite, decides where transactions begin (see _on_begin), so a
        # DDL write probe really runs inside the transaction that is rolled back.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(rms.busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def describe(engine: Engine) -> str:
    """Where the engine points, for messages: URL without password."""
    return mask_url(engine.url.render_as_string(hide_password=True))


def unavailable(engine: Engine, exc: BaseException) -> RmsUnavailableError:
    """An RmsUnavailableError for ``exc``: first line of the driver's reason, no secrets."""
    orig = getattr(exc, "orig", None) or exc
    reason = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return RmsUnavailableError(f"RMS database {describe(engine)} unavailable: {mask_url(reason)}")


def ping(engine: Engine) -> None:
    """Raise RmsUnavailableError unless the RMS answers ``SELECT 1``."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        raise unavailable(engine, exc) from exc
