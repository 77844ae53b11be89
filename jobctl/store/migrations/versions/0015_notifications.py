"""Notifications and auto-pause: the jobs' rules and failure streak, and the deliveries table.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("notify", sa.Text, nullable=True))
        batch.add_column(sa.Column("pause_after_failures", sa.Integer, nullable=True))
        batch.add_column(sa.Column("paused_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("paused_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("paused_at", TS, nullable=True))
        batch.add_column(sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_final_status", sa.String(20), nullable=True))
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("dedupe_key", sa.String(400), nullable=False, unique=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("job_name", sa.String(200), nullable=True),
        sa.Column("execution_id", sa.String(36), nullable=True),
        sa.Column("notifier", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("claimed_by", sa.String(36), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
    )
    op.create_index("ix_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_job", "notification_deliveries", ["job_id", "created_at"])
