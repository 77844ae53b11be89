"""Store URLs: a malformed one is a usage error (exit 2), and no password ever reaches a message.

Every form a password can take in a URL or connection string is masked, in the CLI's errors
(with and without ``--debug``), in the daemon's log and in ``status``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobctl.daemon.logs import JsonFormatter, TextFormatter
from jobctl.errors import UsageError
from jobctl.executors.celery_task import sanitized_url
from jobctl.redaction import redact
from jobctl.store.url import parse_store_url
from tests.conftest import PG_URL

SECRET = "S3cr3t-pw"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"postgresql+psycopg://u:{SECRET}@h:5432/x", "postgresql+psycopg://u:***@h:5432/x"),
        (f"postgresql://u@h:5999/x?password={SECRET}", "postgresql://u@h:5999/x?password=***"),
        (f"postgresql://u@h/x?sslmode=require&PASSWORD={SECRET}&x=1", "postgresql://u@h/x?sslmode=require&PASSWORD=***&x=1"),
        (f"postgresql://u@h/x?options=-c%20password%3D{SECRET}", "postgresql://u@h/x?options=-c%20password%3D***"),
        (f"postgresql://u@h/x?sslpassword={SECRET}", "postgresql://u@h/x?sslpassword=***"),
        (f"host=h user=u password={SECRET} dbname=x", "host=h user=u password=*** dbname=x"),
        (f"host=h password = '{SECRET} with spaces' dbname=x", "host=h password = *** dbname=x"),
        (f"redis://:{SECRET}@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        (f"amqp://guest:{SECRET}@127.0.0.1:5672//", "amqp://guest:***@127.0.0.1:5672//"),
        (f"postgresql://u:{SECRET}/with@slash@h/x", "postgresql://u:***@h/x"),
        (f"store 'postgresql://u:{SECRET}@h/x': refused", "store 'postgresql://u:***@h/x': refused"),
        ("postgresql://u@h:5432/x?options=-csearch_path%3Ds1", "postgresql://u@h:5432/x?options=-csearch_path%3Ds1"),
        ("http://127.0.0.1:8000/api/v1/scheduler", "http://127.0.0.1:8000/api/v1/scheduler"),
        ("sqlite:////var/lib/jobctl/jobctl.db", "sqlite:////var/lib/jobctl/jobctl.db"),
        (f"host=h PassWd={SECRET} dbname=x", "host=h PassWd=*** dbname=x"),
        (f"host=h pa\u017f\u017fword={SECRET}", "host=h pa\u017f\u017fword=***"),
        ("run finished: job pass-through, exit code 0", "run finished: job pass-through, exit code 0"),
        (f"pg_dump 'dbname=x password={SECRET}' -f b", "pg_dump 'dbname=x password=***' -f b"),
    ],
    ids=["userinfo", "query", "query-upper-case", "options", "sslpassword", "conninfo", "conninfo-quoted",
         "redis", "amqp", "unencoded-slash", "in-a-message", "options-without-password", "api-url", "sqlite",
         "passwd-mixed-case", "long-s-folds-to-s", "pass-without-a-key", "closing-quote-kept"],
)  # fmt: skip
def test_every_password_form_is_masked(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert sanitized_url(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a" * 50_000 + "://x@", "a" * 50_000 + "://x@"), ("://" + "a" * 50_000 + "@", "://" + "a" * 50_000 + "@"),
     ("ab://" * 10_000 + "@", "ab://ab:***@"), ("x://u:" + "p" * 50_000 + "@h", "x://u:***@h"),
     ("password='" * 5_000, "password=***" * 2_500), ("password" + " " * 50_000, "password" + " " * 50_000)],
    ids=["long-scheme", "long-user", "many-schemes", "long-password", "unclosed-quotes", "long-space"],
)  # fmt: skip
def test_pathological_text_is_masked_without_backtracking(text: str, expected: str) -> None:
    """Runs of scheme-like characters and unclosed quotes made the first patterns quadratic
    (seconds for 20,000 characters of a job's stderr in one log line); these finish at once."""
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (f"postgresql+psycopg://u:{SECRET}@h:5999x/x", "port must be a number"),
        (f"postgresql+psycopg://u@h:99999/x?password={SECRET}", "port must be a number"),
        (f"postgresql://u:{SECRET}@[::1/x", "malformed host"),
        (f"postgresql+psycopg://u:{SECRET}@h:5432", "names no database"),
        (f"postgresql+psycopg://u:{SECRET}@h:5432/?sslmode=disable", "names no database"),
        (f"mysql://u:{SECRET}@h/x", "unsupported store URL scheme"),
        (f"host=h password={SECRET} dbname=x", "has no scheme"),
        ("just-a-path.db", "has no scheme"),
        ("sqlite://relative.db", "expected sqlite:///relative/path"),
        ("sqlite:///:memory:", "in-memory"),
    ],
    ids=["pg-bad-port", "pg-port-out-of-range", "pg-bad-host", "pg-no-database", "pg-empty-database", "mysql",
         "conninfo", "no-scheme", "sqlite-two-slashes", "sqlite-memory"],
)  # fmt: skip
def test_a_malformed_store_url_is_exit_2_with_one_line_and_no_password(url: str, fragment: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        parse_store_url(url)
    assert fragment in caught.value.message and SECRET not in caught.value.message
    for args in (["--db", url, "jobs", "list"], ["--debug", "--db", url, "jobs", "list"]):
        result = jobctl(tmp_path, *args)
        assert result.returncode == 2, result.stderr
        assert SECRET not in result.stderr + result.stdout
        assert "Traceback" in result.stderr if "--debug" in args else result.stderr.count("\n") == 1, result.stderr
        assert fragment in result.stderr.splitlines()[-1]


def test_a_refused_postgres_store_names_the_url_without_its_password(pg_available: bool, tmp_path: Path) -> None:
    """A real server, a database that does not exist: the driver's error, the URL masked, exit 1."""
    if not pg_available:
        pytest.skip("Postgres is not reachable")
    info = parse_store_url(PG_URL).pg_conninfo or {}
    host, port, user = info.get("host", "127.0.0.1"), info.get("port", "5432"), info.get("user", "postgres")
    for url in (
        f"postgresql+psycopg://{user}:{SECRET}@{host}:{port}/jobctl_no_such_db",
        f"postgresql+psycopg://{user}@{host}:{port}/jobctl_no_such_db?password={SECRET}",
        f"postgresql+psycopg://{user}@{host}:{port}/jobctl_no_such_db?options=-c%20password%3D{SECRET}",
    ):
        result = jobctl(tmp_path, "--db", url, "jobs", "list")
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "cannot open store" in result.stderr, result.stderr
        assert "jobctl_no_such_db" in result.stderr and SECRET not in result.stderr


@pytest.mark.parametrize(
    ("query", "fragment"),
    [("sslmode=bogus", 'invalid sslmode value: "bogus"'), ("foo=bar", 'invalid connection option "foo"'),
     ("connect_timeout=x", "bad value for connect_timeout")],
    ids=["bad-value", "unknown-option", "not-a-number"],
)  # fmt: skip
def test_a_connection_parameter_the_driver_refuses_is_a_malformed_url_exit_2(
    query: str, fragment: str, pg_available: bool, tmp_path: Path
) -> None:
    """Exit 1 ("cannot open store") before, as for an outage: the README puts a malformed store
    URL at exit 2, and a daemon under systemd is not restarted for one (RestartPreventExitStatus)."""
    if not pg_available:
        pytest.skip("Postgres is not reachable")
    info = parse_store_url(PG_URL).pg_conninfo or {}
    host, port, user = info.get("host", "127.0.0.1"), info.get("port", "5432"), info.get("user", "postgres")
    url = f"postgresql+psycopg://{user}:{SECRET}@{host}:{port}/test?{query}"
    for args in (["--db", url, "jobs", "create", "a", "--every", "1h", "--command", "true"], ["--db", url, "daemon"]):
        result = jobctl(tmp_path, *args)
        assert result.returncode == 2, result.stderr
        line = result.stderr.splitlines()[-1]
        assert line.startswith("jobctl: store URL postgresql+psycopg://") and fragment in line, result.stderr
        assert SECRET not in result.stderr


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_log_lines_mask_passwords(formatter: logging.Formatter) -> None:
    try:
        raise ValueError(f"bad postgresql://u:{SECRET}@h/x")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "store %s failed", (f"x?password={SECRET}",),
                                   sys.exc_info())  # fmt: skip
    record.fields = {"error": f"amqp://g:{SECRET}@h//"}
    line = formatter.format(record)
    assert SECRET not in line and "password=***" in line and "u:***@h" in line


def test_the_daemon_log_and_status_never_show_the_store_password(pg_url: str, tmp_path: Path) -> None:
    """A daemon on a store URL holding a password (Postgres here trusts, so it is not checked) and a
    Celery broker URL holding one: neither appears in the daemon's log nor in ``status``."""
    from tests.daemon.helpers import DaemonFactory

    store = f"{pg_url}&password={SECRET}"
    config = tmp_path / "jobctl.toml"
    config.write_text(f'[celery]\nbroker_url = "amqp://guest:{SECRET}@127.0.0.1:1//"\nresult_backend = "rpc://x:y:z"\n')
    factory = DaemonFactory(store, config, tmp_path)
    try:
        daemon = factory.start(api=True)
        status = jobctl(tmp_path, "--db", store, "--config", str(config), "status")
        assert status.returncode == 0, status.stderr
        factory.stop_all()
        log = daemon.log()
        assert "upgrading store" in log and "password=***" in log, log
        assert SECRET not in log + status.stdout + status.stderr
    finally:
        factory.stop_all()


def jobctl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    env["JOBCTL_CONFIG"] = str(tmp_path / "none.toml")
    (tmp_path / "none.toml").touch()
    return subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
