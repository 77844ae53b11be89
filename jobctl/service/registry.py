"""Task functions declared in the config, synced into the store (matched by name)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from jobctl.models import SHELL_TASK_FUNCTION, TaskFunction, TaskFunctionSpec
from jobctl.service import audit
from jobctl.store import Store

SHELL = TaskFunctionSpec(
    name=SHELL_TASK_FUNCTION,
    display_name="Shell command",
    description="Run taskArgs.command with /bin/sh -c",
    handler_type="command",
    handler_path="/bin/sh -c",
)


@dataclass(frozen=True, kw_only=True)
class SyncReport:
    upserted: list[str]
    deactivated: list[str]


def sync_task_functions(store: Store, specs: tuple[TaskFunctionSpec, ...], *, actor: str | None = None) -> SyncReport:
    """Upsert ``specs`` and mark every other task function inactive (never deleted: history points at them).

    The built-in ``shell`` is always kept; a config entry named ``shell`` cannot replace it. A
    sync that changed something (a task function added, changed or deactivated) is recorded in
    the audit log as done by ``actor`` (default ``local:UNIXUSER``); one that changed nothing,
    like most daemon starts, is not.
    """
    now = datetime.now(UTC)
    declared = [spec for spec in specs if spec.name != SHELL_TASK_FUNCTION]
    with store.transaction():
        changed = [spec.name for spec in declared if _differs(store.catalog.get_task_function_by_name(spec.name), spec)]
        for spec in (SHELL, *declared):
            store.catalog.upsert_task_function(spec, now)
        gone = store.catalog.deactivate_task_functions_except({SHELL.name, *(s.name for s in declared)}, now)
        store.cluster.bump_generation()
        if changed or gone:
            audit.record(
                store, actor=actor or audit.local_actor(), action=audit.TASK_FUNCTIONS_SYNCED,
                target_type=audit.TASK_FUNCTIONS, details={"changed": changed, "deactivated": gone}, at=now,
            )  # fmt: skip
    return SyncReport(upserted=[spec.name for spec in declared], deactivated=gone)


def _differs(stored: TaskFunction | None, spec: TaskFunctionSpec) -> bool:
    """Whether upserting ``spec`` changes the stored task function (or adds it)."""
    if stored is None:
        return True
    return any(getattr(stored, field.name) != getattr(spec, field.name) for field in dataclasses.fields(spec))
