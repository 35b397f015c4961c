"""Alembic environment: always given a connection by rms_ml_push.store.migrate."""

from __future__ import annotations

from alembic import context

from rms_ml_push.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
context.run_migrations()
