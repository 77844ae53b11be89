"""``executions.exit_code``: the code a run's process exited with.

A command's ``result`` is its last stdout line when that line is a JSON object, and
``{"exitCode": N}`` only otherwise, so a failed run that printed JSON kept its exit code in no
field: ``jobctl run`` exited 1 for it instead of the job's code, and the API could not say which
code it was. The column is null for runs recorded before it, for runs that never got a code
(killed by a signal, timed out, cancelled, never started) and for Celery tasks.

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


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("exit_code", sa.Integer, nullable=True))
