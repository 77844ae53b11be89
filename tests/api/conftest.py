"""Fixtures for the REST API tests: the app in-process over a real store, one token per role.

``api`` is a fresh store per test (for tests that write). ``shared_api`` is one store per
module and backend, for the many tests that must not change anything (bad input, auth
failures): sharing it keeps the suite fast, and ``unchanged_job`` checks after every such
test that it really changed nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from jobctl.store import Store, open_store
from tests.api.helpers import Api, make_api

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; the client under test is httpx
    from fastapi.testclient import TestClient


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    """The API over this test's store, with an admin, an operator and a viewer token."""
    with make_api(store, TestClient) as api:
        yield api


@pytest.fixture(scope="module")
def shared_api(module_store_url: str) -> Iterator[Api]:
    """The API over a store shared by the tests of one module (same backends as ``store``)."""
    store = open_store(module_store_url)
    with make_api(store, TestClient) as api:
        yield api
    store.close()


@pytest.fixture
def unchanged_job(shared_api: Api) -> Iterator[dict[str, Any]]:
    """A job of the shared store; the test fails if it, the job list or the history changed."""
    listed = shared_api.get("/jobs", params={"name": "standing"}).json()["jobs"]
    job = listed[0] if listed else shared_api.create_job("standing")
    before = _snapshot(shared_api, job["id"])
    yield job
    assert _snapshot(shared_api, job["id"]) == before


def _snapshot(api: Api, job_id: str) -> tuple[Any, ...]:
    return api.get(f"/jobs/{job_id}").json(), api.get("/jobs").json(), api.get("/executions").json()
