"""A job's environment values as a caller may read them: a viewer gets each one masked.

Environment values are where secrets are handed to jobs (``DB_PASSWORD``), and a viewer token
is the one handed out widely (dashboards, the front end, a read-only script). The audit log
masks them for everyone; a job response masks them for viewers only, keeping the names, so an
operator or an admin (and the local CLI, which acts as admin) can still copy a job whole with
``jobs show --json | jobs create --from-json`` (docs/secrets.md). Every job the service returns
goes through :func:`shown_to`: reads, listings, streams and the answers of writes alike, so a
role that may call a write later cannot read values through its answer either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar, cast

from jobctl.models import Caller, Role
from jobctl.redaction import MASK
from jobctl.wire.responses import JobDetail, JobOut

ENVIRONMENT_VALUES_ROLE = Role.OPERATOR
"""The least role that reads environment values as they are."""

AnyJob = TypeVar("AnyJob", JobOut, JobDetail)


def shown_to(caller: Caller, job: AnyJob) -> AnyJob:
    """``job`` as ``caller`` may read it: for a role below :data:`ENVIRONMENT_VALUES_ROLE`, each
    environment value ``***`` (the names kept); otherwise unchanged."""
    environment = job.get("environment")
    if not environment or caller.role.allows(ENVIRONMENT_VALUES_ROLE):
        return job
    return cast(AnyJob, {**job, "environment": dict.fromkeys(environment, MASK)})


def all_shown_to(caller: Caller, jobs: Iterable[AnyJob]) -> list[AnyJob]:
    """:func:`shown_to` for each of ``jobs``."""
    return [shown_to(caller, job) for job in jobs]


def pages_shown_to(caller: Caller, pages: Iterator[list[JobOut]]) -> Iterator[list[JobOut]]:
    """:func:`shown_to` for each job of each page of a stream, as the pages are read."""
    return (all_shown_to(caller, page) for page in pages)
