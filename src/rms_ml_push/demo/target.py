"""The engine the demo writes through (a plain read-write engine, unlike the RMS reader)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa


def demo_engine(url: str) -> sa.Engine:
    """A writable engine for a ``sqlite:///`` or ``postgresql[+psycopg]://`` URL.

    Raises ValueError for any other URL. Creates a SQLite file's folder.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(
            "not a database URL (sqlite:///path or postgresql+psycopg://...)"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(parsed)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, connect_args={"connect_timeout": 10})
    raise ValueError(f"unsupported database {backend!r} (use sqlite or postgresql)")
