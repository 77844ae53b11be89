"""Overlap policies and concurrency groups.

Jobs get ``overlap_policy`` (``skip`` for every existing job: what they did before),
``max_queued`` (1) and ``concurrency_group`` (none). Executions get ``pending_reason`` (why a
pending one waits) and ``concurrency_group`` (the group a run counts against). ``concurrency_groups``
holds each group's limit as the daemons' configs declare it, and its row is what a start
locks, so two daemons cannot both take a group's last place (docs/concurrency-groups.md).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("overlap_policy", sa.String(20), nullable=False, server_default="skip"))
        batch.add_column(sa.Column("max_queued", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("concurrency_group", sa.String(200), nullable=True))
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("pending_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("concurrency_group", sa.String(200), nullable=True))
    op.create_index("ix_executions_group_status", "executions", ["concurrency_group", "status"])
    op.create_table(
        "concurrency_groups",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("max_running", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
