"""The retry fields over the API: kept as sent, and bad values 422 at their loc (both stores)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api, job_body

WEEK = 7 * 24 * 3600

BAD = {
    "backoff-unknown": ("retryBackoff", "linear"),
    "backoff-not-text": ("retryBackoff", 1),
    "max-delay-zero": ("retryMaxDelaySeconds", 0),
    "max-delay-over-a-week": ("retryMaxDelaySeconds", WEEK + 1),
    "max-delay-text": ("retryMaxDelaySeconds", "60"),
    "max-delay-fraction": ("retryMaxDelaySeconds", 1.5),
    "exit-code-zero": ("retryOnExitCodes", [0]),
    "exit-code-256": ("retryOnExitCodes", [256]),
    "exit-code-negative": ("retryOnExitCodes", [-1]),
    "exit-codes-not-a-list": ("retryOnExitCodes", 3),
    "exit-code-text": ("retryOnExitCodes", ["3"]),
    "exit-code-float": ("retryOnExitCodes", [3.0]),
    "exit-code-bool": ("retryOnExitCodes", [True]),
    "too-many-exit-codes": ("retryOnExitCodes", [*range(1, 256), 1]),
}


def _locs(response: Any) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(("field", "value"), BAD.values(), ids=list(BAD))
def test_bad_retry_settings_are_422_at_their_loc_on_create_and_update(
    shared_api: Api, unchanged_job: dict[str, Any], field: str, value: Any
) -> None:
    created = _locs(shared_api.call("POST", "/jobs", json=job_body("bad-retry", **{field: value})))
    assert all(loc[:2] == ["body", field] for loc in created) and created, created
    updated = _locs(shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json={field: value}))
    assert all(loc[:2] == ["body", field] for loc in updated) and updated, updated


def test_backoff_may_not_be_null_on_update(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    assert _locs(shared_api.call("PUT", f"/jobs/{unchanged_job['id']}", json={"retryBackoff": None})) == [
        ["body", "retryBackoff"]
    ]


def test_retry_settings_are_kept_and_defaults_are_today_s(shared_api: Api) -> None:
    plain = shared_api.call("POST", "/jobs", json=job_body("retry-plain")).json()
    assert (plain["retryBackoff"], plain["retryMaxDelaySeconds"], plain["retryOnExitCodes"]) == ("fixed", None, None)
    body = job_body("retry-set", retryCount=4, retryBackoff="exponential", retryMaxDelaySeconds=WEEK,
                    retryOnExitCodes=[75, 1])  # fmt: skip
    created = shared_api.call("POST", "/jobs", json=body).json()
    assert (created["retryBackoff"], created["retryMaxDelaySeconds"], created["retryOnExitCodes"]) == (
        "exponential", WEEK, [75, 1])  # fmt: skip
    assert shared_api.get(f"/jobs/{created['id']}").json()["retryOnExitCodes"] == [75, 1]
    changed = shared_api.call(
        "PUT", f"/jobs/{created['id']}", json={"retryOnExitCodes": None, "retryMaxDelaySeconds": None}
    ).json()
    assert (changed["retryBackoff"], changed["retryMaxDelaySeconds"], changed["retryOnExitCodes"]) == (
        "exponential", None, None)  # fmt: skip
