"""``GET /executions/stream`` builds its items straight from the rows (``listed_execution``),
not through the :class:`~jobctl.models.Execution` record that ``GET /executions`` uses: the two
must give the same JSON, key for key and in the same order, for runs in every status and with
every column set, on both stores (SQLite keeps timestamps as text and booleans as 0/1,
Postgres as its own types)."""

from __future__ import annotations

import json

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.service.execution_listing import listed_execution
from jobctl.store import Store
from jobctl.store.executions import ExecutionFilter
from jobctl.store.records import execution_from_row
from jobctl.wire import responses
from tests.store.helpers import add_job, add_runs_of_every_kind


def test_the_stream_items_equal_the_records_json_for_every_kind_of_run(store: Store) -> None:
    wanted = add_runs_of_every_kind(store.db, add_job(store.db, "j"))
    rows, more = store.executions.page_rows(ExecutionFilter(), limit=100)
    assert len(rows) == len(wanted) and not more
    for row in rows:
        listed = listed_execution(row)
        recorded = responses.execution(execution_from_row(row))
        assert json.dumps(listed) == json.dumps(recorded), row["status"]
        assert list(listed) == list(recorded)

    service = Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC")
    streamed = [item for page in service.stream_executions() for item in page]
    page = service.list_executions(per_page=100)["executions"]
    assert json.dumps(streamed) == json.dumps(page) and len(page) == len(wanted)
    assert {item["pendingReason"] for item in streamed} >= {
        None,
        "group db full",
        "retry at 2031-05-06T07:08:09.000120Z",
    }
