"""Two indexes of ``executions`` hold only the runs their questions are about.

Retention deletes every execution once it expires, and each index of the table costs it a b-tree
delete per row, most of them on a page of their own (docs/retention.md). Two indexes held every
run though their questions only ever concern a few:

- ``ix_executions_group_status`` (concurrency group, status) now holds only runs of a group
  (``concurrency_group IS NOT NULL``): most runs have none. Every question it answers names a
  group, which implies the condition.
- ``ix_executions_job_status_completed`` (job, status, completion) gives way to
  ``ix_executions_job_active`` (job, status) over the pending and running runs only. Its
  questions were a job's active runs (the claim, a job's count, stopping a job) and a job's last
  success, which ``job_run_stats`` keeps (migration 0024). The queries spell the statuses out
  (``ACTIVE_SQL`` in jobctl/store/executions.py) so both stores see that they imply the
  condition. Finished runs, all that retention deletes, are in neither index.

Plans in docs/scale-query-plans.md.

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
ACTIVE = "status IN ('pending', 'running')"


def upgrade() -> None:
    op.drop_index("ix_executions_group_status", table_name="executions")
    op.create_index(
        "ix_executions_group_status", "executions", ["concurrency_group", "status"],
        sqlite_where=sa.text(GROUPED), postgresql_where=sa.text(GROUPED),
    )  # fmt: skip
    op.create_index(
        "ix_executions_job_active", "executions", ["job_id", "status"],
        sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE),
    )  # fmt: skip
    op.drop_index("ix_executions_job_status_completed", table_name="executions")


def downgrade() -> None:
    op.create_index("ix_executions_job_status_completed", "executions", ["job_id", "status", "completed_at"])
    op.drop_index("ix_executions_job_active", table_name="executions")
    op.drop_index("ix_executions_group_status", table_name="executions")
    op.create_index("ix_executions_group_status", "executions", ["concurrency_group", "status"])
