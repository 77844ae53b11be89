"""Job labels through the service on SQLite and Postgres: stored, returned, replaced, filtered, checked."""

from __future__ import annotations

from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.service import Service
from jobctl.store import Store


def body(name: str, **overrides: Any) -> dict[str, Any]:
    return {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": {"command": "true"}, **overrides}  # fmt: skip


def names(service: Service, *labels: str) -> list[str]:
    listed = service.list_jobs(labels=labels)
    assert listed["total"] == len(listed["jobs"]) == listed["enabledCount"] + listed["disabledCount"]
    return [job["name"] for job in listed["jobs"]]


def test_labels_are_stored_and_in_every_job_response(service: Service, store: Store) -> None:
    plain = service.create_job(body("plain"))
    labelled = service.create_job(body("labelled", labels={"team": "ops", "app.kubernetes.io/name": "web", "e": ""}))
    assert plain["labels"] == {}
    assert labelled["labels"] == {"team": "ops", "app.kubernetes.io/name": "web", "e": ""}
    assert service.get_job(labelled["id"])["labels"] == labelled["labels"]
    assert [job["labels"] for job in service.list_jobs()["jobs"]] == [{}, labelled["labels"]]
    stored = store.jobs.get(labelled["id"])
    assert stored is not None and stored.labels == labelled["labels"]


def test_an_update_replaces_the_labels_and_leaves_them_when_not_sent(service: Service) -> None:
    job = service.create_job(body("job", labels={"team": "ops", "tier": "gold"}))
    assert service.update_job(job["id"], {"retryCount": 2})["labels"] == {"team": "ops", "tier": "gold"}
    assert service.update_job(job["id"], {"labels": {"team": "dev"}})["labels"] == {"team": "dev"}
    assert service.set_job_status(job["id"], {"isPaused": True})["labels"] == {"team": "dev"}
    assert service.update_job(job["id"], {"labels": {}})["labels"] == {}


def test_the_label_filter_needs_every_pair(service: Service) -> None:
    service.create_job(body("a", labels={"team": "ops", "tier": "gold"}))
    service.create_job(body("b", labels={"team": "ops", "tier": "silver"}))
    service.create_job(body("c", labels={"team": "dev", "tier": "gold"}, isEnabled=False))
    service.create_job(body("d"))
    assert names(service, "team=ops") == ["a", "b"]
    assert names(service, "team=ops", "tier=gold") == ["a"]
    assert names(service, "tier=gold") == ["a", "c"]
    assert names(service, "team=nobody") == []
    assert names(service, "team=ops", "team=dev") == []
    assert service.list_jobs(labels=["tier=gold"], is_enabled=False)["total"] == 1
    assert names(service) == ["a", "b", "c", "d"]


def test_a_label_value_may_hold_any_printable_text(service: Service) -> None:
    value = "a=b, \"quoted\" 'x' % _ \\ ü 🚀"
    service.create_job(body("odd", labels={"k": value}))
    service.create_job(body("other", labels={"k": "a"}))
    assert names(service, f"k={value}") == ["odd"]
    assert names(service, "k=a%") == []  # no pattern matching


@pytest.mark.parametrize(
    ("labels", "loc"),
    [
        ({"Team": "ops"}, ["body", "labels", "Team", "[key]"]),
        ({"-team": "ops"}, ["body", "labels", "-team", "[key]"]),
        ({"": "ops"}, ["body", "labels", "", "[key]"]),
        ({"k" * 64: "v"}, ["body", "labels", "k" * 64, "[key]"]),
        ({"team": "x" * 256}, ["body", "labels", "team"]),
        ({"team": "a\nb"}, ["body", "labels", "team"]),
        ({"team": 1}, ["body", "labels", "team"]),
        ({f"k{n}": "v" for n in range(65)}, ["body", "labels"]),
        (["team=ops"], ["body", "labels"]),
    ],
    ids=["upper-case-key", "key-starting-with-dash", "empty-key", "key-too-long", "value-too-long",
         "control-character", "non-string-value", "too-many", "not-an-object"],
)  # fmt: skip
def test_bad_labels_are_422_at_their_loc(service: Service, labels: Any, loc: list[str]) -> None:
    with pytest.raises(ValidationFailed) as created:
        service.create_job(body("bad", labels=labels))
    assert [error["loc"] for error in created.value.errors] == [loc]
    job = service.create_job(body("good", labels={"team": "ops"}))
    with pytest.raises(ValidationFailed) as updated:
        service.update_job(job["id"], {"labels": labels})
    assert [error["loc"] for error in updated.value.errors] == [loc]
    assert service.get_job(job["id"])["labels"] == {"team": "ops"}


def test_the_limits_themselves_are_allowed(service: Service) -> None:
    many = {f"k{n}": "v" * 255 for n in range(64)}
    assert service.create_job(body("many", labels=many))["labels"] == many
    assert service.create_job(body("long", labels={"k" * 63: ""}))["labels"] == {"k" * 63: ""}


def test_null_labels_are_refused(service: Service) -> None:
    with pytest.raises(ValidationFailed) as created:
        service.create_job(body("null", labels=None))
    assert [error["loc"] for error in created.value.errors] == [["body", "labels"]]
    job = service.create_job(body("job"))
    with pytest.raises(ValidationFailed) as updated:
        service.update_job(job["id"], {"labels": None})
    assert [error["loc"] for error in updated.value.errors] == [["body", "labels"]]


@pytest.mark.parametrize("text", ["team", "=ops", "Team=ops", "team=a\tb", f"team={'x' * 256}"])
def test_a_bad_label_filter_is_422_at_query_label(service: Service, text: str) -> None:
    with pytest.raises(ValidationFailed) as failed:
        service.list_jobs(labels=[text])
    assert [error["loc"] for error in failed.value.errors] == [["query", "label"]]
