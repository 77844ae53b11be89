"""REST API: ``GET /jobs?per_page=20`` throughput and the trigger -> success round trip.

Targets: ``GET /jobs?per_page=20`` with 1,000 jobs in a SQLite store >= 1,000 requests/s with a
loopback load generator, p99 latency < 50 ms; ``POST /jobs/{id}/trigger`` -> execution
``success`` for ``true``: p50 round trip < 100 ms.

A real ``jobctl daemon`` (API on 127.0.0.1) on a fresh SQLite store with 1,000 hourly jobs.
wrk (2 threads, 16 connections, keep-alive) drives ``GET /jobs``; the peer in the same run is
the same wrk against a bare uvicorn app answering a constant JSON body of the same size (the
web stack's own limit on this machine). The round trip is N sequential triggers, each followed
by polling ``GET /executions/{id}`` every 5 ms until ``success``.

Usage: python bench/api.py [--seconds 10] [--triggers 50]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import _common as c

PEER_APP = """
import json, sys
body = open(sys.argv[1], "rb").read()
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise c.BenchError(f"{url} did not answer within {timeout}s")


def run_wrk(url: str, token: str | None, seconds: int) -> dict[str, float]:
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if token:
        cmd[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rate,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def trigger_round_trips(api: str, token: str, job_id: str, count: int) -> list[float]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    times: list[float] = []
    with httpx.Client(base_url=api, headers=headers, timeout=10) as client:
        for _ in range(count):
            begun = time.perf_counter()
            execution_id = client.post(f"/jobs/{job_id}/trigger").json()["executionId"]
            while True:
                status = client.get(f"/executions/{execution_id}").json()["status"]
                if status == "success":
                    break
                if status not in ("pending", "running"):
                    raise c.BenchError(f"trigger ended {status}")
                time.sleep(0.005)
            times.append((time.perf_counter() - begun) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--triggers", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise c.BenchError("wrk is not installed (apt-get install wrk)")
    from jobctl.service.tokens import create_token

    with c.temp_dir("jobctl-bench-api-") as folder:
        url = c.sqlite_url(folder / "jobctl.db")
        service = c.open_service(url)
        c.log(f"seeding {args.jobs} jobs")
        for n in range(args.jobs):
            service.create_job({"name": f"job-{n:05d}", "taskFunctionId": 1, "jobTypeId": 1,
                                "scheduleConfig": {"hours": 1}, "taskArgs": {"command": "true"}})  # fmt: skip
        probe = service.create_job({"name": "probe", "taskFunctionId": 1, "jobTypeId": 1,
                                    "scheduleConfig": {"hours": 1}, "taskArgs": {"command": "true"}})  # fmt: skip
        token, _ = create_token(service.store, "bench", "admin")
        body_path = folder / "body.json"
        body_path.write_bytes(json.dumps(service.list_jobs(per_page=20)).encode())
        service.store.close()

        port = free_port()
        python = Path(sys.executable)
        log_file = (folder / "daemon.log").open("wb")
        daemon = c.spawn([str(c.venv_bin(python, "jobctl")), "--db", url, "daemon", "--port", str(port)],
                         env=c.run_env(), stderr=log_file)  # fmt: skip
        api = f"http://127.0.0.1:{port}/api/v1/scheduler"
        wait_http(f"http://127.0.0.1:{port}/healthz")
        c.log("wrk against GET /jobs")
        ours = run_wrk(f"{api}/jobs?per_page=20", token, args.seconds)
        c.log("trigger round trips")
        round_trips = trigger_round_trips(api, token, probe["id"], args.triggers)
        c.stop(daemon)
        log_file.close()

        peer_port = free_port()
        peer = c.spawn([str(python), "-c", PEER_APP, str(body_path), str(peer_port)], env=c.run_env())
        wait_http(f"http://127.0.0.1:{peer_port}/")
        c.log("wrk against the bare uvicorn peer")
        theirs = run_wrk(f"http://127.0.0.1:{peer_port}/", None, args.seconds)
        c.stop(peer)

    p50 = c.median(round_trips)
    c.print_header("REST API (bench/api.py)")
    print(c.md_table(
        ["what", "requests/s", "p99 ms", "non-2xx", "vs bare uvicorn"],
        [["jobctl GET /jobs?per_page=20, 1,000 jobs, SQLite", c.fmt(ours["rps"], 0), c.fmt(ours["p99_ms"]),
          int(ours["non_2xx"]), c.ratio(ours["rps"], theirs["rps"])],
         ["bare uvicorn, constant body of the same size", c.fmt(theirs["rps"], 0), c.fmt(theirs["p99_ms"]), 0, "1.00x"]],
    ))  # fmt: skip
    print()
    print(c.md_table(
        ["trigger -> success (true)", "p50 ms", "p90 ms", "max ms"],
        [[f"{len(round_trips)} sequential triggers", c.fmt(p50), c.fmt(c.percentile(round_trips, 90)),
          c.fmt(max(round_trips))]],
    ))  # fmt: skip
    met = [ours["rps"] >= 1000, ours["p99_ms"] < 50, p50 < 100, ours["non_2xx"] == 0]
    print()
    print(f"- Target GET /jobs >= 1,000 req/s: {ours['rps']:.0f} -> {'MET' if met[0] else 'MISSED'}")
    print(f"- Target GET /jobs p99 < 50 ms: {ours['p99_ms']:.1f} ms -> {'MET' if met[1] else 'MISSED'}")
    print(f"- Target trigger round trip p50 < 100 ms: {p50:.1f} ms -> {'MET' if met[2] else 'MISSED'}")
    c.save_results("api", {"get_jobs": ours, "peer": theirs, "trigger_ms": round_trips})
    return 0 if all(met) else c.EXIT_TARGET_MISSED


if __name__ == "__main__":
    c.run_benchmark(main)
