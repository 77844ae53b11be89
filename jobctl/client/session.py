"""HTTP to the daemon's API, and the one place where httpx errors and HTTP statuses become
:mod:`jobctl.errors` (as httpx's own transport maps httpcore's errors exactly once).

::

    connection refused, timeout, DNS, bad scheme   -> ApiUnreachable    (exit 5)
    401 / 403                                      -> NotAuthenticated / PermissionDenied (exit 5)
    404 about a job, execution or token            -> NotFound          (exit 3)
    404 for a path the server has no route for     -> ApiUnreachable    (exit 5: not a jobctl API there)
    410                                            -> ExecutionGone     (exit 3, with the run's last record)
    409                                            -> Conflict          (exit 4)
    422                                            -> ValidationFailed  (exit 2, the server's field errors)
    400 / 413 / 415                                -> UsageError        (exit 2)
    anything else that is not 2xx                  -> JobctlError       (exit 1)
    a 2xx body that is not JSON                    -> ApiUnreachable    (exit 5)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from jobctl.errors import (
    ApiUnreachable,
    Conflict,
    ExecutionGone,
    JobctlError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    UsageError,
    ValidationFailed,
)

API_PREFIX = "/api/v1/scheduler"

NotFoundFactory = Callable[[], NotFound]
_BY_STATUS: dict[int, type[JobctlError]] = {
    400: UsageError,
    401: NotAuthenticated,
    403: PermissionDenied,
    409: Conflict,
    413: UsageError,
    415: UsageError,
}


class ApiSession:
    """Authenticated JSON requests to one daemon, relative to its scheduler API root.

    ``client`` (an ``httpx.Client``, e.g. FastAPI's ``TestClient``) is used as given and not
    closed; otherwise a client is made for ``base_url`` and closed by :meth:`close`.
    """

    def __init__(
        self, base_url: str, *, token: str | None, timeout: float, client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        token = token.strip() if token else None  # a token read from a file keeps its newline
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._owned = client is None
        self._client = client or _new_client(self.base_url, timeout, transport)
        self._prefix = _api_root(self._client, self.base_url)

    def close(self) -> None:
        if self._owned:
            self._client.close()

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
        not_found: NotFoundFactory | None = None, timeout: float | None = None,
    ) -> Any:  # fmt: skip
        """The decoded JSON answer (None for 204). ``not_found`` builds the error for a 404;
        ``timeout`` replaces the session's for a request that may take long on the server.

        :raises JobctlError: as mapped in the module docstring.
        """
        try:
            extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            content, headers = (None, self._headers) if body is None else (_json_bytes(body), self._json_headers)
            response = self._client.request(
                method, self._prefix + path, params=_query(params), content=content, headers=headers, **extra
            )
        except httpx.HTTPError as exc:
            raise ApiUnreachable(f"cannot reach the jobctl API at {self.base_url}: {_reason(exc)}") from exc
        if response.status_code >= 300:
            raise _error_for(response, not_found)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiUnreachable(f"the jobctl API at {self.base_url} answered with something that is not JSON") from exc

    def stream_lines(
        self, path: str, *, params: Mapping[str, Any] | None = None, lines_per_batch: int = 500
    ) -> Iterator[list[Any]]:
        """The decoded lines of a newline-delimited JSON answer, ``lines_per_batch`` at a time,
        as they arrive.

        :raises JobctlError: as :meth:`request` for an error status; :class:`ApiUnreachable`
            when the answer ends early (the daemon closed it before its end) or a line is not JSON.
        """
        import orjson  # a third of the client's decoding time of json.loads; loaded for streams only

        answered = False  # an error before the answer began is a daemon not reached, not one that broke off
        try:
            url, query = self._prefix + path, _query(params)
            with self._client.stream("GET", url, params=query, headers=self._headers) as response:
                answered = True
                if response.status_code >= 300:
                    response.read()
                    raise _error_for(response, None)
                batch: list[Any] = []
                rest = b""
                for chunk in response.iter_bytes():
                    lines = (rest + chunk).split(b"\n")
                    rest = lines.pop()
                    batch.extend(orjson.loads(line) for line in lines if line)
                    if len(batch) >= lines_per_batch:
                        yield batch
                        batch = []
                if rest.strip():
                    batch.append(orjson.loads(rest))
                if batch:
                    yield batch
        except httpx.HTTPError as exc:
            if not answered:
                raise ApiUnreachable(f"cannot reach the jobctl API at {self.base_url}: {_reason(exc)}") from exc
            raise ApiUnreachable(f"the jobctl API at {self.base_url} broke off its answer: {_reason(exc)}") from exc
        except ValueError as exc:
            raise ApiUnreachable(f"the jobctl API at {self.base_url} answered with a line that is not JSON") from exc


def _new_client(base_url: str, timeout: float, transport: httpx.BaseTransport | None) -> httpx.Client:
    """:raises UsageError: for a URL that is not ``http(s)://host[:port][/path]``."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UsageError(f"invalid API URL {base_url!r}: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"invalid API URL {base_url!r}: give http://HOST:PORT or https://HOST:PORT")
    return httpx.Client(base_url=url, timeout=timeout, transport=transport, verify=_verify(url))


def _verify(url: httpx.URL) -> bool:
    """Whether the client needs the CA certificates: False only when it can never speak TLS.

    httpx loads the CA bundle when a client is made, whatever its URL: about 50 ms, up to 280 ms
    with a cold disk cache, for every ``--api`` command. A client of an ``http://`` API that no
    proxy setting sends through a proxy (which could be ``https://``) follows no redirects and
    sends every request to that same host in plain HTTP, so it never checks a certificate.
    """
    if url.scheme != "http":
        return True
    from urllib.request import getproxies

    return bool(getproxies())


def _api_root(client: httpx.Client, base_url: str) -> str:
    """The scheduler API's root path: ``--api`` may name the server or the API root itself."""
    path = httpx.URL(base_url).path.rstrip("/") if base_url else client.base_url.path.rstrip("/")
    return "" if path.endswith(API_PREFIX) else API_PREFIX


def _json_bytes(body: Any) -> bytes:
    """``body`` as the request's JSON, encoded as httpx's ``json=`` would (compact, UTF-8), but
    with a number that is not finite written as Python writes it (``NaN``, ``Infinity``) where
    httpx's encoder refused it with a ValueError, an internal error: a jobs file's ``nan`` and a
    ``--from-json`` body's ``NaN`` reach the API, whose validation refuses them at their field
    in the words the CLI on the store uses (docs/free-form-json.md)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _query(params: Mapping[str, Any] | None) -> dict[str, str | int | list[str]] | None:
    """Query parameters without the unset (or empty list) ones, booleans as the API's
    ``"true"``/``"false"``; a list repeats its parameter (``label=a=1&label=b=2``)."""
    if not params:
        return None
    query: dict[str, str | int | list[str]] = {}
    for key, value in params.items():
        if value is None or value == []:
            continue
        query[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return query


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    text = str(exc).strip()
    return text or type(exc).__name__


def _error_for(response: httpx.Response, not_found: NotFoundFactory | None) -> JobctlError:
    """The jobctl error an error response stands for."""
    detail = _detail(response)
    status = response.status_code
    if status == 404:
        if not _names_a_missing_thing(response):
            return ApiUnreachable(
                f"no jobctl API at {response.request.url.copy_with(query=None)} (404 from the server; check --api: "
                "the daemon's URL, such as http://127.0.0.1:8000)"
            )
        return not_found() if not_found else NotFound("API path", response.request.url.path)
    if status == 422:
        return _validation_failed(detail)
    if status == 410:
        return _gone(response, detail)
    error_class = _BY_STATUS.get(status)
    if error_class is not None:
        return error_class(str(detail))
    return JobctlError(f"the jobctl API answered {status}: {detail}")


def _names_a_missing_thing(response: httpx.Response) -> bool:
    """Whether a 404 is jobctl's answer about a job, execution or token that is not there
    (JSON ``{"detail": "no job 'x'"}``), not a path the server has no route for: a mistyped
    ``--api`` path, another web server or a proxy. Those answer Starlette's ``Not Found``, an HTML
    page or an empty body, and a script that reads exit 3 as "absent, so create it" must not take
    them for that; they are exit 5, the API cannot be reached, as a refused connection is."""
    try:
        body = response.json()
    except ValueError:
        return False
    detail = body.get("detail") if isinstance(body, dict) else None
    return isinstance(detail, str) and detail.strip() not in ("", "Not Found")


def _gone(response: httpx.Response, detail: Any) -> JobctlError:
    """410: an execution a forced delete ended and deleted, with its last record."""
    try:
        record = response.json().get("execution")
    except (ValueError, AttributeError):
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return JobctlError(f"the jobctl API answered 410: {detail}")
    return ExecutionGone(record["id"], record)


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    return body.get("detail", body) if isinstance(body, dict) else body


def _validation_failed(detail: Any) -> ValidationFailed:
    if isinstance(detail, list) and detail and all(isinstance(item, dict) for item in detail):
        return ValidationFailed(detail)
    return ValidationFailed.field(["body"], str(detail))
