"""``GET /executions/{id}/log``: a run's output from an offset, and whether retention removed it.

The service's :meth:`~jobctl.service.jobs.Service.get_execution_log` (the contract, local and
remote alike) gives the body; the API's route also says, in a header, whether the output was
pruned, read from the same row: an empty, complete log reads the same whether the run printed
nothing or retention removed what it printed, and the body's three keys are fixed.
"""

from __future__ import annotations

from jobctl.errors import ValidationFailed
from jobctl.models import ExecutionStatus
from jobctl.store import Store
from jobctl.wire.ids import is_uuid
from jobctl.wire.responses import ExecutionLog, ExecutionLogPage


def read_execution_log(store: Store, execution_id: str, *, offset: int = 0) -> ExecutionLogPage:
    """Output from ``offset``; ``complete`` once the run ended and all was read; and the run's
    ``outputPruned``.

    :raises ValidationFailed: for a negative ``offset``.
    :raises NotFound: for an id that names no execution (``ExecutionGone`` for one a forced
        delete of its job ended and deleted).
    """
    if offset < 0:
        raise ValidationFailed.field(["query", "offset"], "must be at least 0")
    execution = store.executions.get(execution_id) if is_uuid(execution_id) else None
    if execution is None:
        from jobctl.service.deleted_runs import missing_execution

        raise missing_execution(store, execution_id)
    data, next_offset = store.executions.read_output(execution.id, offset)
    finished = not ExecutionStatus(execution.status).is_active
    if finished and data:
        _, end = store.executions.read_output(execution.id, next_offset, max_chars=1)
        finished = end == next_offset
    body: ExecutionLog = {"data": data, "nextOffset": next_offset, "complete": finished}
    return ExecutionLogPage(body=body, output_pruned=execution.output_pruned)
