"""delivery: messages.failures and messages.trigger

Revision ID: 0002_delivery
Revises: 0001
Create Date: 2026-11-28 02:10:00

Adds the claim index (endpoint, status, next_attempt_at). ``failures`` counts the
failed attempts toward the retry schedule since the message was last queued, so that
a re-push starts a fresh schedule while ``attempts`` keeps the total; ``trigger`` marks
a re-pushed message (manual), which is never superseded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_delivery"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("trigger", sa.String(length=16), server_default="automatic", nullable=False)
        )
        batch_op.create_index(
            "ix_messages_claim", ["endpoint", "status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_claim")
        batch_op.drop_column("trigger")
        batch_op.drop_column("failures")
