"""The store's tables (SQLAlchemy Core). Change them only through a new migration."""

from __future__ import annotations

import sqlalchemy as sa

from rms_ml_push.store.types import UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# Message life cycle: design.md, "Message life cycle (the outbox)".
MESSAGE_STATUSES = ("pending", "in_flight", "delivered", "dead", "superseded")

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # the webhook-id, msg_...
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("endpoint", sa.String(64), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # the exact bytes that are signed
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("delivered_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Superseding (webhook-contract.md): key (type, restaurant_id, granularity).
    sa.Column("supersede_key", sa.String(200), nullable=True),
    sa.Column("generated_at", UtcDateTime, nullable=True),
    sa.Column("part_index", sa.Integer, nullable=True),
    sa.Column("part_count", sa.Integer, nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
    # Failed attempts that count toward the retry schedule since the message was last
    # queued (a re-push starts the schedule again; ``attempts`` keeps the total).
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    # automatic | manual (re-pushed by an operator: never superseded).
    sa.Column("trigger", sa.String(16), nullable=False, server_default="automatic"),
    sa.CheckConstraint(
        "status IN ('pending','in_flight','delivered','dead','superseded')", name="status"
    ),
)
sa.Index("ix_messages_due", messages.c.status, messages.c.next_attempt_at)
sa.Index("ix_messages_endpoint_status", messages.c.endpoint, messages.c.status)
sa.Index("ix_messages_supersede", messages.c.supersede_key, messages.c.status)
sa.Index("ix_messages_created", messages.c.created_at)
# The dispatcher claims per endpoint in due order (migration 0002).
sa.Index("ix_messages_claim", messages.c.endpoint, messages.c.status, messages.c.next_attempt_at)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column(
        "message_id",
        sa.String(64),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),  # automatic | manual
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("response_excerpt", sa.Text, nullable=True),
    sa.Column("instance", sa.String(64), nullable=True),
)
sa.Index("ix_attempts_message", attempts.c.message_id, attempts.c.number)

endpoint_state = sa.Table(
    "endpoint_state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("disabled_reason", sa.Text, nullable=True),
    sa.Column("disabled_at", UtcDateTime, nullable=True),
    sa.Column("paused_until", UtcDateTime, nullable=True),  # open breaker, shared
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_success_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_error_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

RUN_STATUSES = ("running", "succeeded", "failed", "interrupted", "abandoned")

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # run_...
    sa.Column("job", sa.String(32), nullable=False),
    sa.Column("as_of", UtcDateTime, nullable=False),
    # "all" or a canonical restaurant filter such as "r:3,7": part of the slot.
    sa.Column("scope", sa.String(200), nullable=False, server_default="all"),
    sa.Column("full", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("trigger", sa.String(16), nullable=False),  # schedule | catchup | manual
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("instance", sa.String(64), nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("heartbeat_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("quality", sa.JSON, nullable=True),
    sa.Column("metrics", sa.JSON, nullable=True),
    sa.Column("model_name", sa.String(64), nullable=True),
    sa.Column("model_version", sa.String(32), nullable=True),
    sa.Column("messages_enqueued", sa.Integer, nullable=False, server_default="0"),
    sa.Column("summary", sa.JSON, nullable=True),
    sa.CheckConstraint(
        "status IN ('running','succeeded','failed','interrupted','abandoned')", name="status"
    ),
)
# A slot (job, as_of, scope) has at most one live-or-successful run; failed, interrupted
# and abandoned runs stay as history and let the slot be run again.
sa.Index(
    "uq_job_runs_slot",
    job_runs.c.job,
    job_runs.c.as_of,
    job_runs.c.scope,
    unique=True,
    sqlite_where=job_runs.c.status.in_(["running", "succeeded"]),
    postgresql_where=job_runs.c.status.in_(["running", "succeeded"]),
)
sa.Index("ix_job_runs_job_started", job_runs.c.job, job_runs.c.started_at)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),  # e.g. "leader"
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("renewed_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

MODEL_STATUSES = ("candidate", "promoted", "rejected", "deleted")

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),  # MAJOR.MINOR.PATCH, no "v"
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("digests", sa.JSON, nullable=False),  # {file name: sha256 lowercase hex}
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("gate_reason", sa.Text, nullable=True),
    sa.UniqueConstraint("name", "version"),
)

promotions = sa.Table(
    "promotions",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("previous_version", sa.String(32), nullable=True),
    sa.Column("promoted_at", UtcDateTime, nullable=False),
    sa.Column("promoted_by", sa.String(64), nullable=False),  # gate | operator | rollback
    sa.Column("reason", sa.Text, nullable=True),
)
sa.Index("ix_promotions_name", promotions.c.name, promotions.c.promoted_at)

# Latest predictions per (kind, restaurant, as_of), for jobs that build on another's output
# (kitchen and inventory read the demand forecast of the same as_of).
prediction_sets = sa.Table(
    "prediction_sets",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),  # e.g. demand.hour, demand.day
    sa.Column("restaurant_id", sa.BigInteger, nullable=True),
    sa.Column("as_of", UtcDateTime, nullable=False),
    sa.Column("generated_at", UtcDateTime, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)
sa.Index(
    "ix_prediction_sets_lookup",
    prediction_sets.c.kind,
    prediction_sets.c.restaurant_id,
    prediction_sets.c.as_of,
)
