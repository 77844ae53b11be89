"""Index for listing jobs in creation order (``GET /jobs``, ``jobctl jobs list``).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_created_id", "jobs", ["created_at", "id"])
