"""``ix_executions_group_status`` holds only the executions that count against a concurrency group.

Most runs have no group, yet every one of them had an entry in the index, and retention paid
for it on every row it deleted (one of the b-trees a deleted execution touches). Every question
the index answers names a group (``concurrency_group = :name``, ``IS NOT NULL``), which implies
the index's condition, so both SQLite and Postgres still answer them from it
(docs/scale-query-plans.md, docs/retention.md).

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

GROUPED = "concurrency_group IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_executions_group_status", table_name="executions")
    op.create_index(
        "ix_executions_group_status", "executions", ["concurrency_group", "status"],
        sqlite_where=sa.text(GROUPED), postgresql_where=sa.text(GROUPED),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_executions_group_status", table_name="executions")
    op.create_index("ix_executions_group_status", "executions", ["concurrency_group", "status"])
