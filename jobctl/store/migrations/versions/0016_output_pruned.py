"""Retention: ``executions.output_pruned`` says whether retention removed a run's output.

NULL until the output pruner has looked at the run (a partial index keeps those rows, the
only ones it needs to find, in a small index of their own); then TRUE when the run had output
and it was removed, FALSE when it had none (docs/retention.md).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("output_pruned", sa.Boolean, nullable=True))
    unexamined = sa.text("output_pruned IS NULL")
    op.create_index(
        "ix_executions_output_unexamined", "executions", ["created_at"],
        sqlite_where=unexamined, postgresql_where=unexamined,
    )  # fmt: skip
