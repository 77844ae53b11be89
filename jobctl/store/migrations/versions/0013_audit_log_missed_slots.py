"""The audit log, missed-slot ranges on executions, and when the previous leader's term ended.

- ``audit_log``: one row per change made through the service (docs/audit-log.md); no foreign
  key to ``jobs``, so a deleted job's history stays.
- ``executions.missed_count`` / ``missed_until``: a ``missed`` execution stands for a whole
  range of slots (docs/missed-slots.md); null on every other row.
- ``leases.vacated_at``: when the term before the current one ended (its lease expired or was
  released), so a missed range can say that no daemon was leading from then on.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("target_name", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("details", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id", "at"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "at"])
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("missed_count", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("missed_until", TS, nullable=True))
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("vacated_at", TS, nullable=True))
