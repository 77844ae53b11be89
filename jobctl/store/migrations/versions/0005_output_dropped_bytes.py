"""How much of a run's output was dropped to keep its tail (``outputDroppedBytes``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("output_dropped_bytes", sa.BigInteger, nullable=False, server_default="0"))
