"""The error funnel: unexpected failures are a logged, bare 500; store failures a 503 that does
not reveal where the store is; and the scheduler is woken after writes only."""

from __future__ import annotations

import logging

import pytest

from jobctl.service import Service
from tests.api.helpers import Api


def test_an_unexpected_error_is_a_bare_500_and_logged(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    def broken(self: Service) -> None:
        raise RuntimeError("boom in /srv/secret/module.py")

    monkeypatch.setattr(Service, "get_status", broken)
    with caplog.at_level(logging.ERROR, logger="jobctl.api.errors"):
        response = api.get("/status")
    assert (response.status_code, response.json()) == (500, {"detail": "internal error"})
    assert "boom" not in response.text and "Traceback" not in response.text
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


def test_a_store_failure_is_503_without_the_store_location(api: Api, store_url: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    cascade = "" if store_url.startswith("sqlite") else " CASCADE"
    api.store.db.execute(f"DROP TABLE job_types{cascade}")
    with caplog.at_level(logging.ERROR, logger="jobctl.api.errors"):
        response = api.get("/job-types")
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "store" in detail
    assert "sqlite" not in detail and "postgres" not in detail and "job_types" not in detail
    assert any("job_types" in record.getMessage() for record in caplog.records)


def test_the_scheduler_is_told_about_writes_only(api: Api) -> None:
    job = api.create_job()
    api.create_job("second")
    assert len(api.changes) == 2
    for path in ("/jobs", f"/jobs/{job['id']}", "/executions", "/status", "/task-functions", "/job-types"):
        api.get(path)
    api.call("POST", "/jobs", json={"name": "broken"})  # 422: nothing changed
    assert len(api.changes) == 2
    api.call("PUT", f"/jobs/{job['id']}", json={"retryCount": 1})
    api.call("PUT", f"/jobs/{job['id']}/status", json={"isPaused": True})
    api.call("POST", f"/jobs/{job['id']}/trigger")
    assert api.call("DELETE", f"/jobs/{job['id']}").status_code == 409  # its triggered run waits: nothing changed
    assert len(api.changes) == 5
    assert api.call("DELETE", f"/jobs/{job['id']}?force=true").status_code == 204
    assert len(api.changes) == 6
