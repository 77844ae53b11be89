"""The API of a real daemon over real HTTP, on both stores, where the server and the store matter:
a client that hangs up mid-body, ``HEAD`` and ``Allow`` as the server sends them, a trailing
slash, a NUL in a query on Postgres, and what a viewer's CLI reads of a job's environment."""

from __future__ import annotations

import json
import socket
import time

import httpx

from jobctl.service import Service
from jobctl.service.tokens import create_token
from tests.daemon.helpers import DaemonFactory, DaemonProcess, cli, shell_job, wait_for, write_config

PREFIX = "/api/v1/scheduler"


def _hang_up_mid_body(daemon: DaemonProcess, token: str) -> None:
    """``POST /jobs`` declaring 100 bytes, sending 12, then closing the socket."""
    assert daemon.port is not None
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as sock:
        head = (
            f"POST {PREFIX}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"name": "x"')
        time.sleep(0.3)  # the route is reading the body when the client goes


def test_a_client_that_hangs_up_mid_body_is_one_info_line(service: Service, daemons: DaemonFactory) -> None:
    """It was ``ERROR jobctl.api.errors: internal error answering POST ...`` and Starlette's
    traceback, ending in ``ClientDisconnect``."""
    secret, _ = create_token(service.store, "admin-token", "admin")
    daemon = daemons.start(api=True)
    _hang_up_mid_body(daemon, secret)
    line = wait_for(
        lambda: next((line for line in daemon.log().splitlines() if "hung up" in line), None),
        timeout=10, what="the hang-up in the log",
    )  # fmt: skip
    assert " INFO jobctl.api.errors: client hung up before POST /api/v1/scheduler/jobs was answered" in line
    log = daemon.log()
    assert "ERROR" not in log and "Traceback" not in log and "ClientDisconnect" not in log, log
    with httpx.Client(base_url=f"http://127.0.0.1:{daemon.port}", timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        listed = client.get(f"{PREFIX}/jobs", headers={"Authorization": f"Bearer {secret}"}).json()
    assert listed["total"] == 0, "nothing of the half body was created"


def test_methods_slashes_and_a_nul_over_http(service: Service, daemons: DaemonFactory) -> None:
    """What ``curl -I``, a wrong method, ``$API/jobs/`` and ``?actor=%00`` get from the daemon."""
    secret, _ = create_token(service.store, "admin-token", "admin")
    job = shell_job(service, "seen", "true", scheduleConfig={"hours": 1})
    daemon = daemons.start(api=True)
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{daemon.port}", timeout=30, headers=auth) as client:
        for path in ("/healthz", f"{PREFIX}/jobs", f"{PREFIX}/jobs/{job['id']}", f"{PREFIX}/jobs/stream", "/metrics"):
            got, head = client.get(path), client.head(path)
            assert (head.status_code, head.content) == (got.status_code, b""), path
            assert head.headers.get("content-type") == got.headers.get("content-type"), path
            assert head.headers.get("content-length") == got.headers.get("content-length"), path
        assert client.delete(f"{PREFIX}/jobs").headers["allow"] == "GET, HEAD, POST"
        assert client.patch(f"{PREFIX}/jobs/{job['id']}").headers["allow"] == "DELETE, GET, HEAD, PUT"
        assert client.request("OPTIONS", "/healthz").headers["allow"] == "GET, HEAD"
        for method in ("GET", "POST"):
            slashed = client.request(method, f"{PREFIX}/jobs/", json={})
            assert (slashed.status_code, slashed.json()) == (404, {"detail": "Not Found"}), method
            assert "location" not in slashed.headers
        nul = client.get(f"{PREFIX}/audit", params={"actor": "\x00"})
        assert nul.status_code == 422, nul.text
        assert nul.json()["detail"][0]["loc"] == ["query", "actor"]
    assert "ERROR" not in daemon.log(), daemon.log()


def test_a_viewers_cli_reads_environment_names_and_masked_values(service: Service, daemons: DaemonFactory) -> None:
    """``jobs show --json`` with a viewer token printed ``"DB_PASSWORD": "hunter2"``; with an
    admin's it still prints the value, so a copy through ``jobs create --from-json`` keeps it."""
    viewer, _ = create_token(service.store, "viewer-token", "viewer")
    admin, _ = create_token(service.store, "admin-token", "admin")
    shell_job(service, "with-secret", "true", scheduleConfig={"hours": 1}, environment={"DB_PASSWORD": "hunter2"})
    daemon = daemons.start(api=True)
    api = f"http://127.0.0.1:{daemon.port}"

    def environments(token: str, *args: str) -> list[object]:
        result = cli(daemons, "--api", api, *args, token=token)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        jobs = data["jobs"] if isinstance(data, dict) and "jobs" in data else [data]
        return [job["environment"] for job in jobs]

    for args in (("jobs", "show", "with-secret", "--json"), ("jobs", "list", "--json", "--all")):
        assert environments(viewer, *args) == [{"DB_PASSWORD": "***"}], args
        assert environments(admin, *args) == [{"DB_PASSWORD": "hunter2"}], args
    exported = cli(daemons, "--api", api, "export", token=viewer)
    assert exported.returncode == 0, exported.stderr
    assert "hunter2" not in exported.stdout and "DB_PASSWORD" in exported.stdout


def test_a_viewers_cli_reads_stdin_and_secret_looking_args_masked(service: Service, daemons: DaemonFactory) -> None:
    """``jobs show --json``, ``jobs list --json`` and ``export`` with a viewer token printed the
    job's ``stdin`` and ``--arg password=...`` as they are; now ``***``, as the audit log shows
    them. An admin's token still reads them whole."""
    viewer, _ = create_token(service.store, "viewer-token", "viewer")
    admin, _ = create_token(service.store, "admin-token", "admin")
    command = "echo $JOBCTL_ARG_PASSWORD"
    args = {"command": command, "password": "topsecret", "api_token": "tok123"}
    shell_job(service, "argsec", command, scheduleConfig={"hours": 1}, stdin="pw=abc", taskArgs=args)
    daemon = daemons.start(api=True)
    api = f"http://127.0.0.1:{daemon.port}"

    def read(token: str, *args: str) -> str:
        result = cli(daemons, "--api", api, *args, token=token)
        assert result.returncode == 0, result.stderr
        return result.stdout

    secrets = ("topsecret", "tok123", "pw=abc")
    for args in (("jobs", "show", "argsec", "--json"), ("jobs", "list", "--json", "--all")):
        data = json.loads(read(viewer, *args))
        job = data["jobs"][0] if "jobs" in data else data
        assert job["stdin"] == "***", args
        assert job["taskArgs"] == {"command": command, "password": "***", "api_token": "***"}
        assert json.loads(read(admin, *args)) != data, "an admin reads them whole"
    for args in (("jobs", "show", "argsec"), ("export",), ("export", "--format", "json"), ("export", "argsec")):
        shown = read(viewer, *args)
        assert not [secret for secret in secrets if secret in shown], (args, shown)
        assert "password" in shown and "api_token" in shown, (args, shown)
    fields = dict(line.split(None, 1) for line in read(viewer, "jobs", "show", "argsec").splitlines() if line.strip())
    assert fields["stdin"].strip() == "***", "not the 3 bytes of the mask"
    assert all(secret in read(admin, "export") for secret in secrets)


def test_jobs_show_through_the_api_says_where_a_job_naming_no_user_starts(
    service: Service, daemons: DaemonFactory
) -> None:
    """With ``default_run_as = "nobody"``, ``jobs show`` said ``directory /`` (from the store and
    through ``--api``) while the job's runs started in nobody's home: it now says where they
    start whatever the daemon's config, which neither the job nor the API's answer holds."""
    shell_job(service, "plain", "pwd", scheduleConfig={"hours": 1})
    write_config(daemons.config_path, default_run_as="nobody")
    daemon = daemons.start(api=True)
    admin, _ = create_token(service.store, "admin-token", "admin")
    api = ("--api", f"http://127.0.0.1:{daemon.port}")
    for mode in ((), api):
        shown = cli(daemons, *mode, "jobs", "show", "plain", token=admin if mode else None)
        assert shown.returncode == 0, shown.stderr
        lines = [line.split(None, 1) for line in shown.stdout.splitlines() if line.strip()]
        directory = next(words[1].strip() for words in lines if words[0] == "directory")
        assert directory == "the default user's home (/ without [daemon] default_run_as)", (mode, shown.stdout)


def test_a_repeated_or_unknown_query_parameter_is_422_at_its_name(service: Service, daemons: DaemonFactory) -> None:
    """``GET /executions?status=success&status=failed`` listed the failed runs alone (the last
    value won) and ``?stauts=failed`` every run, while the stream refused a paged listing's
    parameters: every endpoint now refuses a parameter it does not take and one given twice
    that takes one value (the seed API's ``status`` is one string); ``label`` repeats."""
    secret, _ = create_token(service.store, "admin-token", "admin")
    viewer, _ = create_token(service.store, "viewer-token", "viewer")
    job = shell_job(service, "seen", "true", scheduleConfig={"hours": 1})
    daemon = daemons.start(api=True)

    def refused(client: httpx.Client, method: str, path: str, params: list[tuple[str, str]]) -> list[object]:
        answer = client.request(method, f"{PREFIX}{path}", params=params)
        assert answer.status_code == 422, (path, params, answer.text)
        return [(error["loc"], error["msg"]) for error in answer.json()["detail"]]

    once = "given more than once; it takes one value"
    with httpx.Client(
        base_url=f"http://127.0.0.1:{daemon.port}", timeout=30, headers={"Authorization": f"Bearer {secret}"}
    ) as client:
        assert refused(client, "GET", "/executions", [("status", "success"), ("status", "failed")]) == [
            (["query", "status"], once)
        ]
        [(loc, msg)] = refused(client, "GET", "/executions", [("stauts", "failed")])
        assert loc == ["query", "stauts"] and msg.startswith("not taken here; this endpoint takes job_id, status,")
        [(loc, msg)] = refused(client, "GET", "/executions/stream", [("page", "2")])
        assert loc == ["query", "page"] and msg.startswith("not taken by a stream"), msg
        assert refused(client, "GET", f"/jobs/{job['id']}/executions", [("per_page", "5"), ("per_page", "9")]) == [
            (["query", "per_page"], once)
        ]
        [(loc, msg)] = refused(client, "POST", f"/jobs/{job['id']}/trigger", [("now", "1")])
        assert (loc, msg) == (["query", "now"], "not taken here; this endpoint takes no query parameter")
        labelled = client.get(f"{PREFIX}/jobs", params=[("label", "a=1"), ("label", "b=2")])
        assert labelled.status_code == 200 and labelled.json()["total"] == 0, labelled.text
        assert client.get(f"{PREFIX}/executions", params={"status": "failed"}).status_code == 200
        assert (
            client.get(
                f"{PREFIX}/executions", params={"stauts": "x"}, headers={"Authorization": "Bearer no"}
            ).status_code
            == 401
        )
        as_viewer = client.post(
            f"{PREFIX}/jobs/{job['id']}/trigger", params={"now": "1"}, headers={"Authorization": f"Bearer {viewer}"}
        )
        assert as_viewer.status_code == 403, "the role first, as for a bad value"
    assert service.list_executions(job_id=job["id"])["total"] == 0, "nothing was triggered"
