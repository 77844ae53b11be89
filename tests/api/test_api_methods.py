"""Methods as RFC 9110 has them, on every route: ``HEAD`` wherever ``GET`` is (the same status
and headers, no body), a 405 whose ``Allow`` names every method of the path, and no redirect for
a trailing slash (a 404 like any unknown path). The routes are read from the OpenAPI document,
plus those it leaves out, so a route added later is held to the same rules."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from jobctl.api import ALIAS_PREFIX, API_PREFIX
from tests.api.helpers import Api

UNKNOWN_ID = "3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11"
UNDOCUMENTED = {"/openapi.json": {"GET"}}
"""Routes outside the document (``/metrics`` is served only by a daemon: tests/daemon)."""
TRIED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _routes(api: Api) -> dict[str, set[str]]:
    """Every served path (ids filled in) and the methods it takes, under both prefixes."""
    document = api.client.get("/openapi.json", headers=api.headers("viewer")).json()
    routes: dict[str, set[str]] = defaultdict(set)
    for path, item in document["paths"].items():
        paths = [path, ALIAS_PREFIX + path.removeprefix(API_PREFIX)] if path.startswith(API_PREFIX) else [path]
        for served in paths:
            routes[served] |= {method.upper() for method in item}
    for path, methods in UNDOCUMENTED.items():
        routes[path] |= methods
    return routes


def _filled(path: str, job_id: str) -> str:
    return path.replace("{job_id}", job_id).replace("{execution_id}", UNKNOWN_ID).replace("{name}", "none")


def test_head_is_answered_wherever_get_is_with_its_headers_and_no_body(
    shared_api: Api, unchanged_job: dict[str, Any]
) -> None:
    """Every ``HEAD`` was a 405 (``curl -I $API/jobs``, ``/healthz`` too)."""
    for path, methods in _routes(shared_api).items():
        if "GET" not in methods:
            continue
        url = _filled(path, unchanged_job["id"])
        got = shared_api.call("GET", url, prefix="")
        head = shared_api.call("HEAD", url, prefix="")
        assert head.status_code == got.status_code, (path, head.status_code, got.status_code, got.text)
        assert head.content == b"", path
        shown = {key: value for key, value in got.headers.items() if key != "date"}
        assert {key: value for key, value in head.headers.items() if key != "date"} == shown, path


def _methods_at(routes: dict[str, set[str]], url: str) -> set[str]:
    """The methods of every route whose path matches ``url`` (``/jobs/stream`` is also a ``/jobs/{job_id}``)."""
    found = set().union(*(m for path, m in routes.items() if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), url)))
    return found | ({"HEAD"} if "GET" in found else set())


def test_a_405_allows_every_method_of_its_path(shared_api: Api, unchanged_job: dict[str, Any]) -> None:
    """``Allow`` named the methods of the first route whose path matched: ``DELETE /jobs`` said
    ``GET`` (``POST`` too is served), ``PATCH /jobs/{id}`` said ``GET`` (``PUT``, ``DELETE`` too)."""
    checked = 0
    routes = _routes(shared_api)
    for path in routes:
        url = _filled(path, unchanged_job["id"])
        allowed = _methods_at(routes, url)
        for method in sorted(set(TRIED) - allowed):
            response = shared_api.call(method, url, prefix="")
            assert response.status_code == 405, (method, path, response.status_code)
            assert response.headers["allow"] == ", ".join(sorted(allowed)), (method, path)
            if method != "HEAD":
                assert response.json() == {"detail": "Method Not Allowed"}
            checked += 1
    assert checked > 100, checked
    assert shared_api.call("DELETE", "/jobs").headers["allow"] == "GET, HEAD, POST"
    assert shared_api.call("PATCH", f"/jobs/{unchanged_job['id']}").headers["allow"] == "DELETE, GET, HEAD, PUT"


def test_a_trailing_slash_is_404_with_an_error_body_never_a_redirect(
    shared_api: Api, unchanged_job: dict[str, Any]
) -> None:
    """``GET $API/jobs/`` (and ``POST``) answered 307 with a ``location`` and an empty body."""
    for path, methods in _routes(shared_api).items():
        url = _filled(path, unchanged_job["id"]) + "/"
        for method in methods:
            body = {} if method in ("POST", "PUT") else None
            response = shared_api.call(method, url, prefix="", json=body, follow_redirects=False)
            assert response.status_code == 404, (method, url, response.status_code)
            assert "location" not in response.headers, (method, url)
            assert response.json() == {"detail": "Not Found"}, (method, url)
