"""HTTP answers and transport failures become the right jobctl errors (and exit codes), once."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest

from jobctl.client import RemoteService
from jobctl.errors import (
    ApiUnreachable,
    Conflict,
    JobctlError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    UsageError,
    ValidationFailed,
)
from tests.remote.helpers import Pair, job_body


@pytest.mark.parametrize("role", [None, "revoked", "bogus"], ids=["no-token", "revoked", "unknown"])
def test_bad_tokens_are_not_authenticated(pair: Pair, role: str | None) -> None:
    if role == "revoked":
        from jobctl.service.tokens import revoke_token

        revoke_token(pair.store, "viewer-token")
        remote = pair.remote_as("viewer")
    else:
        remote = RemoteService("http://testserver", token=role, client=pair.client)
    with pytest.raises(NotAuthenticated) as caught:
        remote.list_jobs()
    assert caught.value.exit_code == 5


@pytest.mark.parametrize(
    ("role", "call"),
    [
        ("viewer", lambda remote, job: remote.trigger_job(job)),
        ("viewer", lambda remote, job: remote.set_job_status(job, {"isEnabled": False})),
        ("operator", lambda remote, job: remote.delete_job(job)),
        ("operator", lambda remote, job: remote.create_job(job_body("nope"))),
    ],
    ids=["viewer-trigger", "viewer-status", "operator-delete", "operator-create"],
)
def test_too_low_a_role_is_permission_denied(pair: Pair, role: str, call: Callable[..., object]) -> None:
    job = pair.local.create_job(job_body("backup"))
    with pytest.raises(PermissionDenied) as caught:
        call(pair.remote_as(role), job["id"])
    assert caught.value.exit_code == 5
    assert pair.local.get_job(job["id"]) == pair.remote.get_job(job["id"])


def test_statuses_map_to_errors_with_the_servers_detail(pair: Pair) -> None:
    job = pair.remote.create_job(job_body("backup", isEnabled=False))
    with pytest.raises(Conflict, match="disabled"):
        pair.remote.trigger_job(job["id"])
    with pytest.raises(NotFound, match="no job"):
        pair.remote.get_job("3f0c8a40-95a3-4b8e-9d1e-9b5e7b0f2a11")
    with pytest.raises(ValidationFailed) as invalid:
        pair.remote.update_job(job["id"], {"jobTypeId": 2, "scheduleConfig": {"hour": "99"}})
    assert [e["loc"] for e in invalid.value.errors] == [["body", "scheduleConfig", "hour"]]
    with pytest.raises(UsageError, match="larger than"):  # 413
        pair.remote.update_job(job["id"], {"description": "x" * (2 * 1024 * 1024)})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "url", [f"http://127.0.0.1:{_free_port()}", "http://no-such-host.invalid:8000"], ids=["refused", "dns"]
)
@pytest.mark.parametrize(
    "ask",
    [
        lambda remote: remote.list_jobs(),
        lambda remote: list(remote.stream_executions()),  # `executions export`, `executions list --all`
        lambda remote: list(remote.stream_jobs()),  # `jobs list --all`
    ],
    ids=["answer", "executions-stream", "jobs-stream"],
)
def test_an_unreachable_api_is_api_unreachable(url: str, ask: Callable[[RemoteService], object]) -> None:
    """Not reached at all is said alike for a plain answer and a stream (which, once begun, may
    instead break off)."""
    with RemoteService(url, token="t", timeout=2) as remote, pytest.raises(ApiUnreachable) as caught:
        ask(remote)
    assert str(caught.value).startswith(f"cannot reach the jobctl API at {url}: ")
    assert caught.value.exit_code == 5


def _answering(status: int, content: bytes = b"", content_type: str = "application/json") -> RemoteService:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"Content-Type": content_type})

    return RemoteService("http://daemon:8000", token="t", transport=httpx.MockTransport(handler))


def _raising(error: Exception) -> RemoteService:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return RemoteService("http://daemon:8000", token="t", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("remote", "error", "exit_code"),
    [
        (_raising(httpx.ReadTimeout("slow")), ApiUnreachable, 5),
        (_raising(httpx.ConnectError("refused")), ApiUnreachable, 5),
        (_raising(httpx.RemoteProtocolError("garbage")), ApiUnreachable, 5),
        (_answering(400, b'{"detail": "bad"}'), UsageError, 2),
        (_answering(413, b'{"detail": "too big"}'), UsageError, 2),
        (_answering(415, b'{"detail": "not JSON"}'), UsageError, 2),
        (_answering(500, b'{"detail": "internal error"}'), JobctlError, 1),
        (_answering(502, b"<html>bad gateway</html>", "text/html"), JobctlError, 1),
        (_answering(503, b'{"detail": "store"}'), JobctlError, 1),
        (_answering(422, b'{"detail": "not a list"}'), ValidationFailed, 2),
        (_answering(404, b'{"detail": "no job \'x\'"}'), NotFound, 3),
        (_answering(404, b'{"detail": "Not Found"}'), ApiUnreachable, 5),
        (_answering(404, b"<html>File not found</html>", "text/html"), ApiUnreachable, 5),
        (_answering(404), ApiUnreachable, 5),
        (_answering(200, b"<html>a proxy page</html>", "text/html"), ApiUnreachable, 5),
    ],
    ids=["timeout", "connect", "protocol", "400", "413", "415", "500", "502-html", "503", "422-odd", "404-jobctl",
         "404-no-route", "404-html", "404-empty", "200-not-json"],
)  # fmt: skip
def test_transport_failures_and_statuses(remote: RemoteService, error: type[JobctlError], exit_code: int) -> None:
    with pytest.raises(error) as caught:
        remote.get_status()
    assert type(caught.value) is error
    assert caught.value.exit_code == exit_code


@pytest.mark.parametrize(
    "url", ["localhost:8000", "ftp://host", "http://[::1", ""], ids=["no-scheme", "ftp", "bad", "empty"]
)
def test_a_malformed_api_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError):
        RemoteService(url, token="t")


@pytest.mark.parametrize(
    "base", ["http://daemon:8000", "http://daemon:8000/", "http://daemon:8000/api/v1/scheduler"],
    ids=["server", "slash", "api-root"],
)  # fmt: skip
def test_the_url_may_name_the_server_or_the_api_root(base: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=[])

    RemoteService(base, token="t", transport=httpx.MockTransport(handler)).list_job_types()
    assert seen == ["http://daemon:8000/api/v1/scheduler/job-types"]
