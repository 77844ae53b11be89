"""A running execution can be asked to stop: ``executions.stop_requested`` holds why.

Deleting a job with ``force`` writes the reason here; the daemon running the execution sees
it, stops the process group and records the run with that reason (docs/deleting-jobs.md).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("stop_requested", sa.Text, nullable=True))
