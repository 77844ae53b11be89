"""Where and how runs start: ``working_directory``, ``umask``, ``nice``, null (the defaults) for every existing job.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("working_directory", sa.Text, nullable=True))
        batch.add_column(sa.Column("umask", sa.String(4), nullable=True))
        batch.add_column(sa.Column("nice", sa.Integer, nullable=True))
