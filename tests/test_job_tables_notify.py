"""The jobs-file key ``notify``: rule tables in, the API's rules out, applied and compared."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.notifier_config import NotifierSpec, NotifySettings
from jobctl.service import Service
from jobctl.store import Store
from jobctl.wire.job_tables import body_from_table, table_from_fields
from tests.conftest import ADMIN, TEST_ZONE

MAIL = NotifierSpec(
    name="ops-mail",
    type="email",
    settings={"to": ["ops@example.com"], "from": "j@example.com", "sendmail": "/usr/sbin/sendmail"},
)


def body(table: dict[str, Any]) -> dict[str, Any]:
    return body_from_table({"name": "n", "every": "1h", "command": "true", **table}, resolve_task=lambda _: 1,
                           default_timezone="UTC")  # fmt: skip


def test_rules_read_and_written_back() -> None:
    rules = [{"notifier": "ops-mail", "on": ["failure"], "each_attempt": True}, {"notifier": "x", "on": ["output"]}]
    read = body({"notify": rules})
    assert read["notify"] == [{"notifier": "ops-mail", "on": ["failure"], "eachAttempt": True},
                              {"notifier": "x", "on": ["output"]}]  # fmt: skip
    assert body({})["notify"] is None
    written = table_from_fields({**read, "notify": [{**read["notify"][1], "eachAttempt": False}]}, task_name="shell")
    assert written["notify"] == [{"notifier": "x", "on": ["output"]}]
    assert "notify" not in table_from_fields({**read, "notify": None}, task_name="shell")
    assert table_from_fields({**read, "notify": []}, task_name="shell")["notify"] == []


@pytest.mark.parametrize(
    "value,loc",
    [
        ("ops-mail", ["notify"]),
        (["ops-mail"], ["notify", 0]),
        ([{"notifier": "a", "on": ["x"], "when": 1}], ["notify", 0, "when"]),
    ],
    ids=["not-a-list", "not-a-table", "unknown-key"],
)
def test_bad_rules_are_errors_at_their_key(value: Any, loc: list[Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        body({"notify": value})
    assert [error["loc"] for error in caught.value.errors] == [loc]


def test_apply_sets_rules_of_configured_notifiers_only(store: Store) -> None:
    service = Service(store, ADMIN, default_timezone=TEST_ZONE, notify=NotifySettings(notifiers=(MAIL,)))
    table = {"name": "mailed", "cron": "0 12 * * *", "command": "true",
             "notify": [{"notifier": "ops-mail", "on": ["output"]}]}  # fmt: skip
    plan = service.apply_jobs(source="t", jobs=[table])
    assert plan["created"] == ["mailed"]
    assert service.apply_jobs(source="t", jobs=[table])["unchanged"] == 1
    with pytest.raises(ValidationFailed) as caught:
        service.apply_jobs(source="t", jobs=[{**table, "notify": [{"notifier": "nope", "on": ["output"]}]}])
    assert caught.value.errors[0]["loc"] == ["body", "jobs", 0, "notify", 0, "notifier"]
