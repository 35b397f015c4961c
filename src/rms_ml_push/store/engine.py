"""The store's engine: one code path for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing with
"database is locked" half-way through. PostgreSQL uses a pre-pinged, bounded pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from rms_ml_push.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_store_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for the store URL; creates the SQLite file's folder if needed."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(f"unsupported store database {parsed.get_backend_name()!r}")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=30,
        future=True,
    )


def _sqlite_engine(url: sa.engine.URL) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        future=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Store:
    """The store's engine with read and write transactions that do the right thing per back end."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def from_url(cls, url: str) -> Store:
        """Create the engine for ``url``."""
        return cls(create_store_engine(url))

    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL (``FOR UPDATE SKIP LOCKED`` available)."""
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite); commits on success."""
        with self.engine.connect() as raw:
            conn = raw.execution_options(sqlite_immediate=True) if self.dialect == "sqlite" else raw
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a plain deferred ``BEGIN`` on SQLite)."""
        with self.engine.connect() as raw:
            conn = (
                raw.execution_options(sqlite_immediate=False) if self.dialect == "sqlite" else raw
            )
            with conn.begin():
                yield conn

    def ping(self) -> None:
        """Raise StoreError unless the store answers a trivial query."""
        try:
            with self.read() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store unreachable: {type(exc).__name__}") from exc

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
