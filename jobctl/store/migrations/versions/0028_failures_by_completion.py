"""``ix_executions_failures``: the failed and timed-out runs by when they ended.

``GET /overview`` (``jobctl top``) lists the latest failures, newest first. It ordered them by
the row's creation, which for a run is its start: a long run that had just failed sorted below
quick failures that ended before it, and fell out of the 20 listed. They are now ordered by
``completed_at``, which no index had. This one holds only the failures (``status IN ('failed',
'timeout')``, a tenth of the runs on a busy store): the index retention deletes from with each
of them, and no entry for the successes, skips and missed ranges it never answers about. The
query spells the statuses out (``FAILURES_SQL`` in jobctl/store/figures.py) so both stores see
that it implies the condition.

Plans in docs/scale-query-plans.md.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

FAILURES = "status IN ('failed', 'timeout')"


def upgrade() -> None:
    op.create_index(
        "ix_executions_failures", "executions", ["completed_at", "id"],
        sqlite_where=sa.text(FAILURES), postgresql_where=sa.text(FAILURES),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_executions_failures", table_name="executions")
