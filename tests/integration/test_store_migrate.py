"""Store migrations apply on SQLite and PostgreSQL and are idempotent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import current_revision, head_revision, migrate


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_migrate_twice(backend: str, sqlite_url: str, request: pytest.FixtureRequest) -> None:
    """Migrating an empty store reaches head; migrating again changes nothing."""
    url = sqlite_url if backend == "sqlite" else request.getfixturevalue("pg_schema_url")
    store = Store.from_url(url)
    try:
        assert current_revision(store) is None
        assert migrate(store) == head_revision()
        assert migrate(store) == head_revision()
        with store.read() as conn:
            tables = set(sa.inspect(conn).get_table_names())
        assert {"messages", "attempts", "job_runs", "leases", "model_versions"} <= tables
    finally:
        store.dispose()
