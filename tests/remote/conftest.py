"""Fixtures for the remote client: :class:`RemoteService` over the app in-process, next to the
local :class:`Service` on the same store, so both can be held to one contract."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from jobctl.store import Store, open_store
from tests.remote.helpers import Pair, make_pair

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; the client under test is httpx
    from fastapi.testclient import TestClient


@pytest.fixture
def pair(store: Store) -> Iterator[Pair]:
    """Local service and remote client (both as the admin token's owner) on this test's store."""
    with make_pair(store, TestClient) as pair:
        yield pair


@pytest.fixture(scope="module")
def shared_pair(module_store_url: str) -> Iterator[Pair]:
    """Like ``pair``, on one store per module, filled with jobs and runs to read."""
    store = open_store(module_store_url)
    with make_pair(store, TestClient) as pair:
        pair.fill()
        yield pair
    store.close()
