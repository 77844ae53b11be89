"""The daemon as a process: config reload on SIGHUP, JSON logs, clear errors at start-up."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from jobctl.config import KEYS, Config
from jobctl.daemon.process import RESTART_ONLY
from jobctl.service import Service
from jobctl.service.tokens import create_token
from jobctl.store import Store, open_store
from tests.conftest import ADMIN, TEST_ZONE
from tests.daemon.helpers import DaemonFactory, DaemonProcess, wait_for, write_config
from tests.notify.helpers import SECRET, HttpReceiver

TASK = """
[[task_functions]]
name = "{name}"
handler_type = "command"
handler_path = "true"
"""


def test_sighup_reloads_the_config_and_syncs_task_functions(service: Service, daemons: DaemonFactory) -> None:
    daemons.config_path.write_text(daemons.config_path.read_text() + TASK.format(name="first"))
    daemon = daemons.start()
    names = lambda: {tf["name"]: tf["isActive"] for tf in service.list_task_functions()["taskFunctions"]}  # noqa: E731
    assert names() == {"shell": True, "first": True}
    daemons.config_path.write_text(daemons.config_path.read_text().replace('"first"', '"second"'))
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: names() == {"shell": True, "first": False, "second": True}, timeout=5, what="the reload")
    daemons.config_path.write_text("this is [not toml")
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "config reload failed" in daemon.log(), timeout=5, what="the failed reload to be logged")
    assert daemon.alive(), "a bad config edit must not stop a running daemon"


RELOAD_FAILED = "config reload failed, keeping the old one"


@contextmanager
def table_locked(store_url: str, table: str) -> Iterator[None]:
    """``table`` of a Postgres store locked against every other session until the block ends, as
    by a long migration or maintenance: a statement that needs it waits, up to its lock timeout."""
    import psycopg

    from jobctl.store.url import parse_store_url

    with psycopg.connect(connect_timeout=5, **(parse_store_url(store_url).pg_conninfo or {})) as conn:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def test_a_store_failure_during_a_reload_keeps_the_old_config_and_the_daemon(pg_url: str, tmp_path: Path) -> None:
    """The daemon's sync waits for a table another session holds, past the lock timeout. The
    reload is refused as a bad config file is: one line, the daemon goes on, and nothing of the
    new config applies (neither its task functions and groups in the store, nor its settings in
    the daemon); a SIGHUP once the lock is gone applies all of it."""
    factory = DaemonFactory(pg_url, write_config(tmp_path / "jobctl.toml"), tmp_path)
    config = factory.config_path
    config.write_text(config.read_text() + TASK.format(name="first"))
    store = open_store(pg_url)
    service = Service(store, ADMIN, default_timezone=TEST_ZONE)
    try:
        daemon = factory.start(api=True)
        metrics = f"http://127.0.0.1:{daemon.port}/metrics"
        config.write_text(
            config.read_text().replace('"first"', '"second"')
            + '[[concurrency_groups]]\nname = "db"\nlimit = 1\n[metrics]\npublic = true\n'
        )
        old = ({"shell": True, "first": True}, [], 401)
        assert in_force(service, metrics) == old
        with table_locked(pg_url, "concurrency_groups"):
            daemon.signal(signal.SIGHUP)
            wait_for(lambda: RELOAD_FAILED in daemon.log() or not daemon.alive(), timeout=20, what="the reload")
        assert daemon.alive(), f"a store failure on reload stopped the daemon:\n{daemon.log()}"
        failed = reload_failure(daemon)
        assert "syncing task functions and groups" in failed and "lock timeout" in failed, failed
        assert in_force(service, metrics) == old, "nothing of the new config applies"
        daemon.signal(signal.SIGHUP)
        new = ({"shell": True, "first": False, "second": True}, [("db", 1)], 200)
        wait_for(lambda: in_force(service, metrics) == new, timeout=10, what="the second reload")
        assert daemon.stop() == 0
    finally:
        factory.stop_all()
        store.close()


def in_force(service: Service, metrics_url: str) -> tuple[dict[str, bool], list[tuple[str, int]], int]:
    """The task functions and groups in the store, and whether the daemon serves /metrics without a token."""
    functions = {tf["name"]: tf["isActive"] for tf in service.list_task_functions()["taskFunctions"]}
    groups = [(group["name"], group["limit"]) for group in service.get_status()["concurrencyGroups"]]
    return functions, groups, httpx.get(metrics_url, timeout=10).status_code


def reload_failure(daemon: DaemonProcess) -> str:
    """The failed reload's log line; the line after it is not a traceback."""
    lines = daemon.log().splitlines()
    at = next(n for n, line in enumerate(lines) if RELOAD_FAILED in line)
    assert not lines[at + 1 :] or not lines[at + 1].startswith("Traceback"), lines[at + 1]
    return lines[at]


def test_sighup_applies_history_settings_and_logs_them(daemons: DaemonFactory) -> None:
    """[history] is read by the leader's pruner at every pass: a reload changes it, and the log
    says what is now kept, so an operator can see that it took."""
    daemon = daemons.start()
    daemons.config_path.write_text(
        daemons.config_path.read_text() + "\n[history]\nkeep_days = 7\nkeep_per_job = 3\naudit_keep_days = 30\n"
    )
    daemon.signal(signal.SIGHUP)
    wanted = "[history] keep_days = 7, keep_per_job = 3, output_keep_days = 30, audit_keep_days = 30"
    wait_for(lambda: wanted in daemon.log(), timeout=5, what="the reload's log line")


def test_a_default_config_file_missing_at_a_reload_keeps_the_old_config(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    """Started with no --config (as the system service is), the daemon read the user's
    jobctl.toml; that file moved away, a SIGHUP read "no file" as every default: its task
    functions deactivated, its group gone, [history] back to 90 days. The file it started from
    is its config: missing at a reload, that is a failed reload, and all of the old one stays."""
    home = tmp_path / "xdg"
    (home / "jobctl").mkdir(parents=True)
    config = home / "jobctl" / "jobctl.toml"
    config.write_text(
        daemons.config_path.read_text()
        + TASK.format(name="hello")
        + '[[concurrency_groups]]\nname = "db"\nlimit = 1\n[history]\nkeep_days = 400\n'
    )
    daemon = daemons.start(config_option=False, extra_env={"XDG_CONFIG_HOME": str(home)})

    def store_state() -> tuple[dict[str, bool], list[tuple[str, int]]]:
        functions = {tf["name"]: tf["isActive"] for tf in service.list_task_functions()["taskFunctions"]}
        return functions, [(group["name"], group["limit"]) for group in service.get_status()["concurrencyGroups"]]

    assert store_state() == ({"shell": True, "hello": True}, [("db", 1)])
    config.rename(tmp_path / "moved.toml")
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: RELOAD_FAILED in daemon.log(), timeout=10, what="the refused reload")
    assert reload_failure(daemon).endswith(f"{RELOAD_FAILED}: config file {config} does not exist")
    assert "config reloaded" not in daemon.log(), daemon.log()
    assert store_state() == ({"shell": True, "hello": True}, [("db", 1)])
    (tmp_path / "moved.toml").rename(config)
    config.write_text(config.read_text().replace("keep_days = 400", "keep_days = 300"))
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "[history] keep_days = 300," in daemon.log(), timeout=10, what="the reload of the file back")
    assert daemon.stop() == 0


def test_a_reload_names_the_settings_that_wait_for_a_restart(daemons: DaemonFactory) -> None:
    """A changed port or lease TTL was taken without a word ("config reloaded; ..."), though the
    daemon goes on with the old ones until it restarts: one warning names them, again at every
    reload until then, and none when only what a reload applies changed."""
    daemon = daemons.start()
    config = daemons.config_path
    config.write_text(config.read_text() + "\n[history]\nkeep_days = 7\n")
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: "[history] keep_days = 7," in daemon.log(), timeout=10, what="the first reload")
    assert "take effect at the next start" not in daemon.log(), daemon.log()
    edited = config.read_text().replace("lease_ttl_seconds = 15", "lease_ttl_seconds = 20")
    config.write_text(edited.replace("[daemon]", "[daemon]\nport = 8123").replace('"UTC"', '"Europe/Berlin"'))
    waiting = (
        "config reloaded; [daemon] port, lease_ttl_seconds, [scheduler] timezone changed"
        " and take effect at the next start"
    )
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: waiting in daemon.log(), timeout=10, what="the warning")
    line = next(line for line in daemon.log().splitlines() if waiting in line)
    assert "WARNING" in line, line
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: daemon.log().count(waiting) == 2, timeout=10, what="the warning again")
    assert daemon.stop() == 0


def test_every_daemon_setting_is_either_reloaded_or_named_as_waiting_for_a_restart() -> None:
    """A key added to the config is in one of the two lists, so a reload never takes it silently."""
    reloaded = {("[history]", key) for key in KEYS["history"]} | {("[metrics]", "public")}
    reloaded.add(("[daemon]", "shutdown_grace_seconds"))
    waiting = {(table, key) for table, key, _ in RESTART_ONLY}
    every = {(f"[{table}]", key) for table, keys in KEYS.items() if table != "client" for key in keys}
    assert waiting | reloaded == every and not waiting & reloaded
    assert all(hasattr(Config(), name) for _, _, name in RESTART_ONLY)


def test_sighup_reaches_the_api_notifiers_rules_and_groups_over_http(
    service: Service, store: Store, daemons: DaemonFactory
) -> None:
    """The API built its services from the settings it was given at start: after a SIGHUP the
    sender used a new notifier while ``GET /notifiers`` listed none, its test was a 404 and a
    rule naming it a 422. Now a request takes the daemon's settings as reloaded, all at once."""
    receiver = HttpReceiver().start()
    try:
        daemon = daemons.start(api=True)
        job = service.create_job({
            "name": "reported", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": "true"},
        })  # fmt: skip
        secret, _ = create_token(store, "reload-admin", "admin")
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{daemon.port}/api/v1/scheduler", headers={"Authorization": f"Bearer {secret}"},
            timeout=30,
        )  # fmt: skip
        rule = {"notify": [{"notifier": "hook", "on": ["failure"]}]}
        grouped = {"concurrencyGroup": "db"}
        with api:
            assert api.get("/notifiers").json() == {"notifiers": []}
            assert api.put(f"/jobs/{job['id']}", json=rule).status_code == 422
            daemons.config_path.write_text(
                daemons.config_path.read_text()
                + f'[[notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "{receiver.url}/x"\nsecret = "{SECRET}"\n'
                + '[[notifiers]]\nname = "mail"\ntype = "email"\nto = ["ops@example.com"]\n'
                + 'from = "jobctl@example.com"\nsmtp_host = "127.0.0.1"\n'
                + '[[concurrency_groups]]\nname = "db"\nlimit = 1\n'
            )
            daemon.signal(signal.SIGHUP)
            wait_for(lambda: "config reloaded" in daemon.log(), timeout=10, what="the reload")

            listed = api.get("/notifiers")
            assert listed.status_code == 200, listed.text
            assert sorted(n["name"] for n in listed.json()["notifiers"]) == ["hook", "mail"]
            tested = api.post("/notifiers/hook/test")
            assert tested.status_code == 200, tested.text
            assert tested.json() == {"notifier": "hook", "ok": True, "error": None}
            assert [r.path for r in receiver.received] == ["/x"]
            updated = api.put(f"/jobs/{job['id']}", json={**rule, **grouped})
            assert updated.status_code == 200, updated.text
            assert updated.json()["notify"] == rule["notify"]
            assert updated.json()["concurrencyGroup"] == "db"
        assert daemon.stop() == 0
    finally:
        receiver.stop()


def test_json_logs_are_one_object_per_line(store_url: str, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "--db", store_url, "daemon", "--no-api", "--log-format", "json"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = json.loads(proc.stderr.readline())
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=30) == 0
    records = [first, *(json.loads(line) for line in rest.splitlines())]
    assert {"time", "level", "logger", "message"} <= set(first)
    assert records[-1]["message"] == "stopped"


def test_a_port_in_use_is_one_clear_line(store_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "jobctl", "--db", store_url, "daemon", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("jobctl:")]
    assert errors == [f"jobctl: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in result.stderr


def test_the_daemon_refuses_api_mode(store_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jobctl", "--api", "http://127.0.0.1:9", "daemon"], capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stderr.startswith(
        "jobctl: 'jobctl daemon' works on the store, not through the API"
    )
