"""``lease_terms``: who led each term of the leader lease, and whether it gave the lease up.

A missed range says why no daemon led (docs/missed-slots.md). The lease row alone could not tell
a leader stopped on purpose from one killed or cut off from the store: a clean stop clears the
holder, and the next takeover overwrites it. Each new term now adds a row (its holder's host and
pid), a clean stop marks its row released, and the next leader reads the row of the term before
its own. A table of its own, not columns of ``leases``: an upgrade leaves ``leases`` unlocked so
that the old leader keeps its lease throughout (``UPGRADE_UNLOCKED``), and adding a column would
lock it until the upgrade commits.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lease_terms",
        sa.Column("term", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("holder_id", sa.String(36), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("released_at", TS, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("lease_terms")
