"""``GET /executions/{id}/log``: ``nextOffset`` is where the answer ends (docs/api.md), also for an
offset past the end of the output, which answers nothing and the output's end."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.helpers import Api, start_leader

CHUNK = 100_000
PRINTED = 2_300_000
"""Characters a run printed, in chunks, as a daemon stores them: more than the kept 1,000,000."""


def _run_that_printed(api: Api, size: int, *, finished: bool) -> str:
    job = api.create_job(f"printed-{size}-{finished}")
    execution_id: str = api.call("POST", f"/jobs/{job['id']}/trigger").json()["executionId"]
    executions = api.store.executions
    now = datetime.now(UTC)
    assert executions.mark_running(execution_id, instance_id=start_leader(api), started_at=now)
    for start in range(0, size, CHUNK):
        executions.append_output(execution_id, start, "x" * min(CHUNK, size - start))
    if finished:
        executions.finish(execution_id, status="success", started_at=None, completed_at=now, duration_seconds=1.0,
                          result={"exitCode": 0}, error_message=None)  # fmt: skip
    return execution_id


def _log(api: Api, execution_id: str, offset: int) -> dict[str, object]:
    response = api.get(f"/executions/{execution_id}/log", params={"offset": offset})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_offset_past_the_end_answers_the_end_of_the_output(api: Api) -> None:
    """It answered ``nextOffset: 99999999``, a place in the output that does not exist."""
    finished = _run_that_printed(api, PRINTED, finished=True)
    assert _log(api, finished, 99_999_999) == {"data": "", "nextOffset": PRINTED, "complete": True}
    assert _log(api, finished, PRINTED) == {"data": "", "nextOffset": PRINTED, "complete": True}
    assert _log(api, finished, PRINTED - 5) == {"data": "xxxxx", "nextOffset": PRINTED, "complete": True}

    running = _run_that_printed(api, 3 * CHUNK, finished=False)
    assert _log(api, running, 99_999_999) == {"data": "", "nextOffset": 3 * CHUNK, "complete": False}
    api.store.executions.append_output(running, 3 * CHUNK, "more")  # a follower from nextOffset reads it
    assert _log(api, running, 3 * CHUNK) == {"data": "more", "nextOffset": 3 * CHUNK + 4, "complete": False}


def test_an_offset_past_the_end_of_no_output_answers_zero(api: Api) -> None:
    silent = _run_that_printed(api, 0, finished=True)
    assert _log(api, silent, 50) == {"data": "", "nextOffset": 0, "complete": True}
