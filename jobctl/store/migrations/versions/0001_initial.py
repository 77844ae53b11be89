"""Initial schema: task functions, job types, jobs, executions, instances, lease, tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "task_functions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("handler_type", sa.String(20), nullable=False),
        sa.Column("handler_path", sa.Text, nullable=False),
        sa.Column("queue", sa.String(200), nullable=True),
        sa.Column("default_timeout_seconds", sa.Integer, nullable=True),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("is_system", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    job_types = op.create_table(
        "job_types",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), nullable=False, unique=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.bulk_insert(
        job_types,
        [
            {"id": 1, "name": "interval", "display_name": "Interval", "description": "Run at fixed time intervals"},
            {"id": 2, "name": "cron", "display_name": "Cron", "description": "Run on a cron schedule"},
            {"id": 3, "name": "date", "display_name": "Date", "description": "Run once at a given time"},
        ],
    )
    _insert_shell_task_function()
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("task_function_id", sa.Integer, sa.ForeignKey("task_functions.id"), nullable=False),
        sa.Column("job_type_id", sa.Integer, sa.ForeignKey("job_types.id"), nullable=False),
        sa.Column("schedule_config", sa.Text, nullable=False),
        sa.Column("task_args", sa.Text, nullable=True),
        sa.Column("max_instances", sa.Integer, nullable=False, server_default="1"),
        sa.Column("timeout_seconds", sa.Integer, nullable=True),
        sa.Column("retry_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_delay_seconds", sa.Integer, nullable=False, server_default="60"),
        sa.Column("is_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("is_paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("next_run_time", TS, nullable=True),
        sa.Column("next_slot", TS, nullable=True),
        sa.Column("last_run_time", TS, nullable=True),
        sa.Column("last_status", sa.String(20), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_jobs_next_run_time", "jobs", ["next_run_time"])
    op.create_index("ix_jobs_task_function_id", "jobs", ["task_function_id"])
    op.create_table(
        "executions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("celery_task_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("scheduled_for", TS, nullable=True),
        sa.Column("run_after", TS, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("duration_seconds", sa.Float, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("triggered_by", sa.String(20), nullable=False),
        sa.Column("triggered_by_user_id", sa.String(200), nullable=True),
        sa.Column("instance_id", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("job_id", "scheduled_for", "attempt", name="uq_executions_slot_attempt"),
    )
    op.create_index("ix_executions_job_created", "executions", ["job_id", "created_at"])
    op.create_index("ix_executions_created", "executions", ["created_at"])
    op.create_index("ix_executions_status", "executions", ["status"])
    op.create_table(
        "scheduler_instances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_heartbeat", TS, nullable=False),
        sa.Column("stopped_at", TS, nullable=True),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("holder_id", sa.String(36), nullable=True),
        sa.Column("term", sa.Integer, nullable=False, server_default="0"),
        sa.Column("acquired_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
    )


def _insert_shell_task_function() -> None:
    """The built-in ``shell`` task function exists in every store."""
    moment = datetime.now(UTC)
    # jobctl keeps SQLite timestamps as fixed-width UTC text (see jobctl.store.database).
    now = moment.strftime("%Y-%m-%d %H:%M:%S.%f+00:00") if op.get_bind().dialect.name == "sqlite" else moment
    op.execute(
        sa.text(
            """
            INSERT INTO task_functions (name, display_name, description, handler_type, handler_path, queue,
                default_timeout_seconds, is_active, is_system, created_at, updated_at)
            VALUES ('shell', 'Shell command', 'Run taskArgs.command with /bin/sh -c', 'command',
                '/bin/sh -c', NULL, NULL, :yes, :no, :now, :now)
            """
        ).bindparams(sa.bindparam("now", now, type_=TS if not isinstance(now, str) else sa.String), yes=True, no=False)
    )
