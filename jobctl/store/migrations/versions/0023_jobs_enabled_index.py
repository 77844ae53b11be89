"""Index on ``jobs.is_enabled``, for the counts of the jobs listing.

``GET /jobs`` answers ``total``, ``enabledCount`` and ``disabledCount`` over every job the
filters match. Without a filter, ``total`` is a count of the table and ``disabledCount`` a
range read of this index (``is_enabled = false``), so neither reads the jobs' rows; before,
the sum of ``is_enabled`` read all of them (about 30 ms at 100,000 jobs on SQLite, on every
first page). Plans in docs/scale-query-plans.md.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_enabled", "jobs", ["is_enabled"])
