"""Run as another user: ``run_as_user`` and ``run_as_group``, null (the daemon's default) for every existing job.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("run_as_user", sa.String(255), nullable=True))
        batch.add_column(sa.Column("run_as_group", sa.String(255), nullable=True))
