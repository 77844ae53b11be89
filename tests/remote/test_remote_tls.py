"""A client of an ``http://`` API loads no CA certificates (they cost every ``--api`` command
50-280 ms and are never used there); one that may speak TLS keeps httpx's verification."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from jobctl.client import RemoteService

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def verify_mode(url: str) -> ssl.VerifyMode:
    """How the default transport of a client of ``url`` would check a server's certificate."""
    remote = RemoteService(url, token="t")
    try:
        transport: Any = remote._session._client._transport
        context: ssl.SSLContext = transport._pool._ssl_context
        return context.verify_mode
    finally:
        remote.close()


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_proxies")
def test_a_plain_http_api_needs_no_certificates() -> None:
    assert verify_mode("http://127.0.0.1:8080") == ssl.CERT_NONE


@pytest.mark.usefixtures("no_proxies")
def test_an_https_api_is_verified() -> None:
    assert verify_mode("https://jobctl.example:8443") == ssl.CERT_REQUIRED


@pytest.mark.usefixtures("no_proxies")
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "https_proxy", "ALL_PROXY"])
def test_an_http_api_behind_a_proxy_keeps_verification(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "https://proxy.example:3128")
    assert verify_mode("http://127.0.0.1:8080") == ssl.CERT_REQUIRED
