"""Indexes for the execution listings at scale: newest first, filtered by status or by job.

``GET /executions?status=failed`` and ``jobs show`` / ``--job X`` read the newest rows of one
status or one job: with ``(status, created_at, id)`` and ``(job_id, created_at, id)`` that is
an index range read backwards that stops after one page, where the single-column index on
``status`` made the store sort every failed run first (plans in docs/scale-query-plans.md).
The new indexes take over from ``ix_executions_status`` and ``ix_executions_job_created``,
whose columns they start with.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_executions_status_created_id", "executions", ["status", "created_at", "id"])
    op.create_index("ix_executions_job_created_id", "executions", ["job_id", "created_at", "id"])
    op.drop_index("ix_executions_status", table_name="executions")
    op.drop_index("ix_executions_job_created", table_name="executions")
    op.create_index("ix_executions_created_id", "executions", ["created_at", "id"])
    op.drop_index("ix_executions_created", table_name="executions")
