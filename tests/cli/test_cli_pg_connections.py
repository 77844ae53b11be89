"""How many Postgres connections one command line call opens: one, through a real TCP relay
that counts them (a pool would open a probe and its own connection)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import Cli


class CountingRelay:
    """Accepts connections on 127.0.0.1 and relays each to the Postgres server, counting them."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.accepted = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self.accepted += 1
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        self._server.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def relayed_url(pg_url: str) -> Iterator[tuple[str, CountingRelay]]:
    parts = urlsplit(pg_url)
    relay = CountingRelay((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = f"{parts.username}@127.0.0.1:{relay.port}" if parts.username else f"127.0.0.1:{relay.port}"
    yield urlunsplit(parts._replace(netloc=netloc)), relay
    relay.close()


def test_a_command_opens_one_postgres_connection(
    relayed_url: tuple[str, CountingRelay], pg_url: str, tmp_path: Path
) -> None:
    url, relay = relayed_url
    config = tmp_path / "jobctl.toml"
    config.write_text("")
    cli = Cli({"PATH": "/usr/bin:/bin", "JOBCTL_CONFIG": str(config)})
    assert cli("--db", pg_url, "jobs", "list", "--json").code == 0  # the store is made first, unrelayed

    created = cli("--db", url, "jobs", "create", "j", "--command", "true", "--every", "1h")
    assert created.code == 0, created
    assert relay.accepted == 1
    listed = cli("--db", url, "jobs", "list", "--json")
    assert listed.code == 0 and '"name": "j"' in listed.stdout, listed
    assert relay.accepted == 2
