"""Apply the store's Alembic migrations: idempotent and safe when instances start together."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from rms_ml_push.errors import StoreError
from rms_ml_push.store.engine import Store

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every instance of the service.
_MIGRATION_LOCK_KEY = 0x524D534D4C  # "RMSML"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise StoreError("no store migrations found; the package is incomplete")
    return head


def current_revision(store: Store) -> str | None:
    """The revision the store is at, or None for an empty store."""
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(store: Store) -> str:
    """Upgrade the store to the newest schema; returns the revision it is at."""
    head = head_revision()
    if current_revision(store) == head:
        return head
    cfg = _config()
    try:
        with store.write() as conn:
            if store.is_postgres:
                # Serialises concurrent start-ups; a transaction-level lock is released at
                # commit, so it is safe behind a transaction-pooling proxy.
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY}
                )
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"store migration failed: {type(exc).__name__}: {exc}") from exc
    return head
