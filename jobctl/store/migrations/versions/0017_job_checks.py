"""Job checks: ``start_grace_seconds``, ``max_runtime_alert_seconds``, ``expect_success_within_seconds``,
null (no check) for every existing job.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("start_grace_seconds", sa.Integer, nullable=True))
        batch.add_column(sa.Column("max_runtime_alert_seconds", sa.Integer, nullable=True))
        batch.add_column(sa.Column("expect_success_within_seconds", sa.Integer, nullable=True))
