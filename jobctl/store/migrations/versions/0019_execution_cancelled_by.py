"""Who cancelled a run: ``executions.cancelled_by`` (a token's name or ``local:USER``).

Set on a pending run as it ends ``cancelled``, and on a running one together with
``stop_requested``: the daemon running it stops its process group and records it
``cancelled`` (docs/cancelling-runs.md).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("cancelled_by", sa.Text, nullable=True))
