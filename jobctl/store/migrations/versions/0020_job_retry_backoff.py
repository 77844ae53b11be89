"""Retries with backoff: ``jobs.retry_backoff``, ``retry_max_delay_seconds``, ``retry_on_exit_codes``.

Existing jobs keep today's behaviour: ``fixed`` delays, no cap, any failure retried
(docs/retry-backoff.md).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("retry_backoff", sa.String(20), nullable=False, server_default="fixed"))
        batch.add_column(sa.Column("retry_max_delay_seconds", sa.Integer, nullable=True))
        batch.add_column(sa.Column("retry_on_exit_codes", sa.Text, nullable=True))
