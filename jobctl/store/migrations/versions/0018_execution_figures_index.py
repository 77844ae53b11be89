"""Index for the per-job figures of ``GET /metrics``: executions by job, status and completion.

It answers a job's latest success with one index seek, and lets the count of executions by job
and status read the index alone instead of the table (docs/metrics.md).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_executions_job_status_completed", "executions", ["job_id", "status", "completed_at"])
