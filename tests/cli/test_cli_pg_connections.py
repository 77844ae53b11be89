"""How many Postgres connections one command line call opens: one, counted by a real TCP proxy
in front of the server (a pool would open a probe and its own connection)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from jobctl.store import open_store
from tests.cluster.proxy import TcpProxy
from tests.conftest import Cli


def test_a_command_opens_one_postgres_connection(pg_url: str, tmp_path: Path) -> None:
    config = tmp_path / "jobctl.toml"
    config.write_text("")
    cli = Cli({"PATH": "/usr/bin:/bin", "JOBCTL_CONFIG": str(config)})
    open_store(pg_url).close()  # the store is made first, not through the proxy
    server = urlsplit(pg_url)
    with TcpProxy((server.hostname or "127.0.0.1", server.port or 5432)) as proxy:
        url = proxy.url_for(pg_url)

        created = cli("--db", url, "jobs", "create", "j", "--command", "true", "--every", "1h")
        assert created.code == 0, created
        assert proxy.accepted == 1
        listed = cli("--db", url, "jobs", "list", "--json")
        assert listed.code == 0 and '"name": "j"' in listed.stdout, listed
        assert proxy.accepted == 2
