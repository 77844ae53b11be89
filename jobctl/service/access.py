"""Who may do what: the role each operation of the service needs.

One table for the whole program. The service checks it at the start of every write
operation; the API also asks it before reading a request body, so a caller whose role is too
low hears 403 rather than a 422 about a body it may not send at all.
"""

from __future__ import annotations

from jobctl.errors import PermissionDenied
from jobctl.models import Caller, Role

ROLE_NEEDED: dict[str, Role] = {
    "create_job": Role.ADMIN,
    "update_job": Role.ADMIN,
    "delete_job": Role.ADMIN,
    "set_job_status": Role.OPERATOR,
    "trigger_job": Role.OPERATOR,
    "apply_jobs": Role.ADMIN,
    "test_notifier": Role.OPERATOR,  # reachability checks are an operator's, as pausing is
    "cancel_execution": Role.OPERATOR,
    "list_audit": Role.ADMIN,
}
"""The role each write operation (a service method's name) and the audit log need; every other
one needs a valid token only, which is a viewer's."""


def authorize(caller: Caller, operation: str) -> None:
    """Check that ``caller`` may perform ``operation``.

    :raises PermissionDenied: when :data:`ROLE_NEEDED` asks more than the caller's role (403, exit 5).
    """
    role = ROLE_NEEDED.get(operation, Role.VIEWER)
    if not caller.role.allows(role):
        raise PermissionDenied(f"this needs the {role.value} role; the token has {caller.role.value}")
