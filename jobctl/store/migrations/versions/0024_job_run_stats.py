"""``job_run_stats``: each job's finished runs counted by status, kept by triggers on ``executions``.

``GET /metrics`` reports per job its runs by status and its missed and skipped slots as
Prometheus counters, its last success and its last duration. Aggregating ``executions`` for them
on every refresh cost as much as the table is long (runs kept, not jobs) and made the counters
drop when retention deleted rows. This table holds one row per job and finished status, written
by the database itself at every insert of an execution and every change of its status, completion
time, duration or missed count, so every write path is counted without knowing about it, and
deleting executions (retention) leaves it alone. A job's rows go with the job (``ON DELETE
CASCADE``). Existing executions are counted once here. docs/metrics.md has the rules.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ACTIVE = "('pending', 'running')"
"""Statuses a run leaves again: not counted (``running`` is read from the executions)."""


def _slots(row: str) -> str:
    """The scheduled slots an execution ``row`` (``NEW``, ``OLD`` or an alias) stands for."""
    return (
        f"(CASE WHEN {row}.scheduled_for IS NOT NULL AND ({row}.status = 'missed'"
        f" OR ({row}.status = 'skipped' AND {row}.triggered_by = 'scheduler'))"
        f" THEN COALESCE({row}.missed_count, 1) ELSE 0 END)"
    )


def _upsert(*, entered: str, old_slots: str) -> str:
    """Count ``NEW`` in its status: ``entered`` (1 or 0) adds a run, its slots less ``old_slots``
    already counted; the latest completion and the duration of the latest created run are kept."""
    return f"""
        INSERT INTO job_run_stats (job_id, status, runs, slots, latest_completed_at,
            last_duration_seconds, last_duration_created_at)
        VALUES (NEW.job_id, NEW.status, {entered}, {_slots("NEW")} - {old_slots}, NEW.completed_at,
            NEW.duration_seconds, CASE WHEN NEW.duration_seconds IS NOT NULL THEN NEW.created_at END)
        ON CONFLICT (job_id, status) DO UPDATE SET
            runs = job_run_stats.runs + excluded.runs,
            slots = job_run_stats.slots + excluded.slots,
            latest_completed_at = CASE
                WHEN job_run_stats.latest_completed_at IS NULL
                    OR excluded.latest_completed_at > job_run_stats.latest_completed_at
                THEN excluded.latest_completed_at ELSE job_run_stats.latest_completed_at END,
            last_duration_seconds = CASE
                WHEN excluded.last_duration_created_at IS NOT NULL AND (job_run_stats.last_duration_created_at IS NULL
                    OR excluded.last_duration_created_at >= job_run_stats.last_duration_created_at)
                THEN excluded.last_duration_seconds ELSE job_run_stats.last_duration_seconds END,
            last_duration_created_at = CASE
                WHEN excluded.last_duration_created_at IS NOT NULL AND (job_run_stats.last_duration_created_at IS NULL
                    OR excluded.last_duration_created_at >= job_run_stats.last_duration_created_at)
                THEN excluded.last_duration_created_at ELSE job_run_stats.last_duration_created_at END;
    """


_WATCHED = "status, completed_at, duration_seconds, missed_count"
"""The columns whose change a trigger counts."""

_SAME_STATUS = "(OLD.status = NEW.status)"

_SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER executions_run_stats_insert AFTER INSERT ON executions
    WHEN NEW.status NOT IN {ACTIVE}
    BEGIN {_upsert(entered="1", old_slots="0")} END
    """,
    f"""
    CREATE TRIGGER executions_run_stats_update AFTER UPDATE OF {_WATCHED} ON executions
    WHEN NEW.status NOT IN {ACTIVE}
    BEGIN {_upsert(entered=f"(CASE WHEN {_SAME_STATUS} THEN 0 ELSE 1 END)",
                   old_slots=f"(CASE WHEN {_SAME_STATUS} THEN {_slots('OLD')} ELSE 0 END)")} END
    """,
)  # fmt: skip

_POSTGRES_FUNCTION = f"""
    CREATE FUNCTION jobctl_count_run_stats() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.status IN {ACTIVE} THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' THEN
            {_upsert(entered="1", old_slots="0")}
        ELSE
            {_upsert(entered=f"(CASE WHEN {_SAME_STATUS} THEN 0 ELSE 1 END)",
                     old_slots=f"(CASE WHEN {_SAME_STATUS} THEN {_slots('OLD')} ELSE 0 END)")}
        END IF;
        RETURN NULL;
    END
    $$
"""  # fmt: skip

_POSTGRES_TRIGGER = f"""
    CREATE TRIGGER executions_run_stats AFTER INSERT OR UPDATE OF {_WATCHED} ON executions
    FOR EACH ROW EXECUTE FUNCTION jobctl_count_run_stats()
"""

_BACKFILL = f"""
    INSERT INTO job_run_stats (job_id, status, runs, slots, latest_completed_at,
        last_duration_seconds, last_duration_created_at)
    SELECT e.job_id, e.status, COUNT(*), SUM({_slots("e")}), MAX(e.completed_at),
        (SELECT d.duration_seconds FROM executions d
            WHERE d.job_id = e.job_id AND d.status = e.status AND d.duration_seconds IS NOT NULL
            ORDER BY d.created_at DESC LIMIT 1),
        (SELECT MAX(d.created_at) FROM executions d
            WHERE d.job_id = e.job_id AND d.status = e.status AND d.duration_seconds IS NOT NULL)
    FROM executions e WHERE e.status NOT IN {ACTIVE}
    GROUP BY e.job_id, e.status
"""


def upgrade() -> None:
    op.create_table(
        "job_run_stats",
        sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("runs", sa.BigInteger, nullable=False),
        sa.Column("slots", sa.BigInteger, nullable=False),
        sa.Column("latest_completed_at", TS, nullable=True),
        sa.Column("last_duration_seconds", sa.Float, nullable=True),
        sa.Column("last_duration_created_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("job_id", "status", name="pk_job_run_stats"),
    )
    postgres = op.get_bind().dialect.name != "sqlite"
    if postgres:
        # No write between the backfill and the trigger: it would be counted by neither.
        op.execute("LOCK TABLE executions IN SHARE MODE")
    op.execute(_BACKFILL)
    if not postgres:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)
    else:
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
