"""Checks of the RMS database for ``config check``: reachable, read-only, contract tables.

Each problem is one line that names the setting to fix. Never contacts a webhook endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rms_ml_push.errors import RmsUnavailableError
from rms_ml_push.rms.engine import create_rms_engine, unavailable
from rms_ml_push.rms.tables import (
    OPTIONAL_TABLES,
    RmsTableSet,
    build_tables,
    setting_name,
    split_name,
)

if TYPE_CHECKING:
    from rms_ml_push.config import Settings

_PROBE_TABLE = "rms_ml_push_write_probe"


def check_rms(settings: Settings) -> list[str]:
    """Problems with the RMS database, one line each (empty when all is well)."""
    if settings.rms_url is None:
        return [
            "RMS_ML_RMS_URL: not set; the jobs read the RMS database "
            "(use `config check --no-rms` to check the rest only)"
        ]
    try:
        engine = create_rms_engine(settings.rms_url.get_secret_value(), settings.rms)
    except RmsUnavailableError as exc:
        message = str(exc)
        return [message if message.startswith("RMS_ML_") else f"RMS_ML_RMS_URL: {message}"]
    try:
        with engine.connect() as conn:
            problems = check_read_only(conn)
            problems.extend(check_contract(conn, build_tables(settings.rms_tables)))
            return problems
    except sa.exc.DBAPIError as exc:
        return [f"RMS_ML_RMS_URL: {unavailable(engine, exc)}"]
    finally:
        engine.dispose()


def check_read_only(conn: Connection) -> list[str]:
    """Try a write inside a transaction that is always rolled back; it must fail.

    The probe creates a TEMP table: both PostgreSQL's read-only transactions and SQLite's
    query_only refuse it, and where it wrongly succeeds it leaves nothing behind, even on
    a driver that commits DDL on its own.
    """
    wrote = False
    with conn.begin() as tx:
        try:
            with conn.begin_nested():
                conn.execute(sa.text(f"CREATE TEMP TABLE {_PROBE_TABLE} (x INTEGER)"))
            wrote = True
        except sa.exc.DBAPIError:
            wrote = False  # the read-only session refused: what we want
        tx.rollback()
    if wrote:
        return [
            "RMS_ML_RMS_URL: the RMS connection accepted a write (rolled back); the session "
            "is not read-only - check that nothing between the service and the database "
            "drops session options, and use a read-only role (README, Configuration)"
        ]
    return []


def check_contract(conn: Connection, tables: RmsTableSet) -> list[str]:
    """One line per missing required table and per missing column of a present table."""
    inspector = sa.inspect(conn)
    problems: list[str] = []
    for canonical, table in tables.tables.items():
        schema, name = split_name(getattr(tables.names, canonical))
        if not inspector.has_table(name, schema=schema):
            if canonical not in OPTIONAL_TABLES:
                problems.append(
                    f"{setting_name(canonical)}: table {getattr(tables.names, canonical)!r} "
                    f"({canonical}) not found in the RMS database"
                )
            continue
        present = {col["name"].lower() for col in inspector.get_columns(name, schema=schema)}
        problems.extend(
            f"{setting_name(canonical)}: table {getattr(tables.names, canonical)!r} lacks "
            f"column {col.name!r} (map it with a view, see rms-data-contract.md)"
            for col in table.columns
            if col.name.lower() not in present
        )
    return problems
