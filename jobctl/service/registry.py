"""Task functions declared in the config, synced into the store (matched by name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jobctl.models import SHELL_TASK_FUNCTION, TaskFunctionSpec
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


def sync_task_functions(store: Store, specs: tuple[TaskFunctionSpec, ...]) -> SyncReport:
    """Upsert ``specs`` and mark every other task function inactive (never deleted: history points at them).

    The built-in ``shell`` is always kept; a config entry named ``shell`` cannot replace it.
    """
    now = datetime.now(UTC)
    declared = [spec for spec in specs if spec.name != SHELL_TASK_FUNCTION]
    with store.transaction():
        for spec in (SHELL, *declared):
            store.catalog.upsert_task_function(spec, now)
        gone = store.catalog.deactivate_task_functions_except({SHELL.name, *(s.name for s in declared)}, now)
        store.cluster.bump_generation()
    return SyncReport(upserted=[spec.name for spec in declared], deactivated=gone)
