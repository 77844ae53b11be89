"""Six-field cron expressions are read seconds first: rewrite stored ones so they keep their meaning.

Before this revision a sixth crontab field was the seconds *after* the weekday (croniter's
order); it is now the first field (Quartz, Spring, robfig/cron, node-cron). A stored
``{"expression": "0 9 * * * 30"}`` (09:00:30) becomes ``"30 0 9 * * *"``, which means the
same under the new reading; five-field expressions, macros and field-style configs are left
alone. ``next_run_time`` and ``next_slot`` stay valid, since no schedule changes.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CRON_JOB_TYPE = 2


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, schedule_config FROM jobs WHERE job_type_id = :cron"), {"cron": CRON_JOB_TYPE}
    ).fetchall()
    for job_id, stored in rows:
        config = json.loads(stored)
        expression = config.get("expression") if isinstance(config, dict) else None
        if not isinstance(expression, str) or len(expression.split()) != 6:
            continue
        fields = expression.split()
        config["expression"] = " ".join([fields[5], *fields[:5]])
        bind.execute(
            sa.text("UPDATE jobs SET schedule_config = :config WHERE id = :id"),
            {"config": json.dumps(config, separators=(",", ":")), "id": job_id},
        )
