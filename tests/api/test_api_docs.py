"""``/openapi.json`` needs a token and there is no ``/docs`` page, unless ``[daemon] docs = true``
serves both openly (the page then loads Swagger UI from a CDN, as the README says)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobctl.config import config_from_dict
from jobctl.errors import UsageError
from jobctl.store import Store
from tests.api.helpers import Api, make_api

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def documented_api(store: Store) -> Iterator[Api]:
    """The API of a daemon with ``[daemon] docs = true``."""
    with make_api(store, TestClient, docs=True) as api:
        yield api


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}], ids=["no-token", "unknown-token"])
def test_the_document_needs_a_token_by_default(shared_api: Api, headers: dict[str, str]) -> None:
    response = shared_api.client.get("/openapi.json", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "paths" not in response.text


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_any_token_reads_the_document(shared_api: Api, role: str) -> None:
    response = shared_api.client.get("/openapi.json", headers=shared_api.headers(role))
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "jobctl scheduler API"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_docs_page_by_default(shared_api: Api, path: str) -> None:
    assert shared_api.client.get(path, headers=shared_api.headers("admin")).status_code == 404


def test_with_docs_on_the_page_and_the_document_are_public(documented_api: Api) -> None:
    document = documented_api.client.get("/openapi.json")
    assert document.status_code == 200
    assert document.json() == documented_api.client.app.openapi()  # type: ignore[attr-defined]
    page = documented_api.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "url: '/openapi.json'" in page.text
    remote = {part.split("/")[0] for part in page.text.split("https://")[1:]}
    assert remote == {"cdn.jsdelivr.net"}, "the page fetches Swagger UI from the CDN the README names, nothing else"
    assert documented_api.get("/jobs", role=None).status_code == 401, "the API itself still needs a token"
    assert documented_api.client.get("/redoc").status_code == 404


def test_docs_is_a_daemon_setting_off_by_default(tmp_path: Path) -> None:
    assert config_from_dict({}).api_docs is False
    assert config_from_dict({"daemon": {"docs": True}}).api_docs is True
    with pytest.raises(UsageError, match="docs"):
        config_from_dict({"daemon": {"docs": "yes"}})
