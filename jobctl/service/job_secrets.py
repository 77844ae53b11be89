"""A job's secrets as a caller may read them: a viewer gets them masked.

A job hands secrets to its runs in three places: its environment values (``DB_PASSWORD``), its
standard input (``pw=...`` for a program that reads its password there) and its task
arguments (``--arg password=...``, a ``JOBCTL_ARG_PASSWORD`` of each run). A viewer token is
the one handed out widely (dashboards, the front end, a read-only script). The audit log and
apply plans mask all three for everyone; a job response masks them for viewers only, by the
same rule (:func:`jobctl.service.audit.masked`: environment values and stdin whole, the names
of variables kept, and task arguments under secret-looking keys), so an operator or an admin
(and the local CLI, which acts as admin) can still copy a job whole with ``jobs show --json |
jobs create --from-json`` (docs/secrets.md). Every job the service returns goes through
:func:`shown_to`: reads, listings, streams and the answers of writes alike, so a role that may
call a write later cannot read values through its answer either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar, cast

from jobctl.models import Caller, Role
from jobctl.service import audit
from jobctl.wire.responses import JobDetail, JobOut

SECRET_VALUES_ROLE = Role.OPERATOR
"""The least role that reads a job's environment values, stdin and task arguments as they are."""

MASKED_FIELDS = {"environment": "environment", "stdin": "stdin", "taskArgs": "task_args"}
"""The job's API fields a viewer reads masked, and the job field whose audit-log rule each follows."""

AnyJob = TypeVar("AnyJob", JobOut, JobDetail)


def shown_to(caller: Caller, job: AnyJob) -> AnyJob:
    """``job`` as ``caller`` may read it: for a role below :data:`SECRET_VALUES_ROLE`, each of
    :data:`MASKED_FIELDS` as the audit log shows it (``***`` in place of each secret, names and
    other arguments kept); otherwise unchanged."""
    if caller.role.allows(SECRET_VALUES_ROLE):
        return job
    masked: dict[str, Any] = {
        key: audit.masked(field, job[key])  # type: ignore[literal-required]
        for key, field in MASKED_FIELDS.items()
        if job.get(key) is not None
    }
    return cast(AnyJob, {**job, **masked}) if masked else job


def all_shown_to(caller: Caller, jobs: Iterable[AnyJob]) -> list[AnyJob]:
    """:func:`shown_to` for each of ``jobs``."""
    return [shown_to(caller, job) for job in jobs]


def pages_shown_to(caller: Caller, pages: Iterator[list[JobOut]]) -> Iterator[list[JobOut]]:
    """:func:`shown_to` for each job of each page of a stream, as the pages are read."""
    return (all_shown_to(caller, page) for page in pages)
