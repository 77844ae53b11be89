"""Dispatch throughput to Celery: ``celery_task`` executions per second, end to end.

A backlog of N manual runs of one ``celery_task`` job (the task adds two numbers) is recorded
as ``pending`` in a fresh SQLite store; then ``jobctl daemon --no-api`` starts them, sends each
to the broker, follows it in the Redis result backend and records the outcome. One Celery
worker with 4 prefork processes consumes the queue. Throughput = N / (last ``completedAt`` -
first ``startedAt``); latency = ``completedAt - startedAt`` per run (send, queue, run, result,
poll). Every run must end ``success`` with the right result.

Cases: RabbitMQ and Redis as the broker, each with ``[daemon] max_concurrent_runs`` 16 and 64.
Peer row per broker: the same executor in-process from 64 threads (no store, no daemon), the
ceiling that Celery, the broker and the worker allow on this machine.

Everything (worker, daemon, backlog) is per case, each case is bounded by ``--case-timeout``.
Needs RabbitMQ on 127.0.0.1:5672 (guest/guest) and Redis on 127.0.0.1:6379.

Usage: python bench/celery_throughput.py [--runs 2000] [--concurrency 16,64] [--brokers rabbitmq,redis]
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as c

WORKER_PROCESSES = 4
BROKERS = {"rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672), "redis": ("redis://127.0.0.1:6379/10", 6379)}
RESULT_BACKEND = "redis://127.0.0.1:6379/11"
TASK = "bench.add"
MAX_INSTANCES = 1000


def celery_venv() -> Path:
    return c.ensure_venv("celery", ["celery[redis]>=5.3"], jobctl=True)


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


# -- the worker -------------------------------------------------------------------------------


class Worker:
    """``celery -A _celery_tasks worker -c 4`` on a queue of its own."""

    def __init__(self, broker_url: str, folder: Path) -> None:
        self.queue = f"jobctl-bench-{uuid.uuid4().hex[:8]}"
        self.broker_url = broker_url
        self.log_path = folder / "worker.log"
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "_celery_tasks",
            "worker",
            "-Q",
            self.queue,
            "-c",
            str(WORKER_PROCESSES),
            "-P",
            "prefork",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{self.queue}@bench",
            "--loglevel",
            "WARNING",
        ]
        env = c.run_env(PYTHONPATH=str(c.BENCH), JOBCTL_BENCH_BROKER=broker_url, JOBCTL_BENCH_BACKEND=RESULT_BACKEND)
        self._log = self.log_path.open("wb")
        self.proc = c.spawn(args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=str(c.BENCH))

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Ready once the worker answers a ping (its log is kept at WARNING)."""
        from celery import Celery

        app = Celery("bench-ping", broker=self.broker_url, backend=RESULT_BACKEND, set_as_current=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise c.BenchError(f"celery worker exited with {self.proc.returncode}: {self.log_tail()}")
            if app.control.ping(destination=[f"{self.queue}@bench"], timeout=0.5):
                return
        raise c.BenchError(f"celery worker not ready within {timeout:.0f}s: {self.log_tail()}")

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        c.stop(self.proc, timeout=15, sig=signal.SIGQUIT)
        self._log.close()
        from kombu import Connection

        try:
            with Connection(self.broker_url, connect_timeout=3) as connection:
                channel = connection.default_channel
                channel.queue_delete(self.queue)
                if self.broker_url.startswith("redis://"):  # kombu's binding keys outlive queue_delete
                    with channel.conn_or_acquire() as client:
                        client.delete(f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        except Exception as exc:
            c.log(f"could not delete queue {self.queue}: {exc}")


# -- jobctl -----------------------------------------------------------------------------------


def write_config(folder: Path, broker_url: str, queue: str, concurrency: int) -> Path:
    path = folder / "jobctl.toml"
    path.write_text(
        "\n".join(
            [
                "[daemon]",
                f"max_concurrent_runs = {concurrency}",
                "",
                "[scheduler]",
                'timezone = "UTC"',
                "",
                "[celery]",
                f'broker_url = "{broker_url}"',
                f'result_backend = "{RESULT_BACKEND}"',
                "",
                "[[task_functions]]",
                'name = "bench-add"',
                'handler_type = "celery_task"',
                f'handler_path = "{TASK}"',
                f'queue = "{queue}"',
                "",
            ]
        )
    )
    return path


def seed(url: str, queue: str, runs: int) -> None:
    """``runs`` pending manual executions (recorded before the daemon starts), at most 1,000 per job
    (the highest ``maxInstances``)."""
    from jobctl.models import TaskFunctionSpec

    service = c.open_service(url)
    try:
        spec = TaskFunctionSpec(
            name="bench-add",
            display_name="bench-add",
            description=None,
            handler_type="celery_task",
            handler_path=TASK,
            queue=queue,
        )
        task_function = service.store.catalog.upsert_task_function(spec, datetime.now(UTC))
        for index in range(0, runs, MAX_INSTANCES):
            job = service.create_job(
                {
                    "name": f"bench-add-{index}",
                    "taskFunctionId": task_function.id,
                    "jobTypeId": 1,
                    "scheduleConfig": {"hours": 24},
                    "taskArgs": {"a": 20, "b": 22},
                    "maxInstances": MAX_INSTANCES,
                }
            )
            for _ in range(min(MAX_INSTANCES, runs - index)):
                service.trigger_job(job["id"])
    finally:
        service.store.close()


def run_daemon_case(broker: str, concurrency: int, runs: int, case_timeout: float) -> dict[str, Any]:
    broker_url = BROKERS[broker][0]
    jobctl = c.venv_bin(Path(sys.executable), "jobctl")
    with c.temp_dir("jobctl-bench-celery-") as folder:
        worker = Worker(broker_url, folder)
        try:
            worker.wait_ready()
            url = c.sqlite_url(folder / "store.db")
            seed(url, worker.queue, runs)
            daemon = c.Daemon(jobctl, url, write_config(folder, broker_url, worker.queue, concurrency), folder)
            try:
                daemon.wait_started()
                finished = wait_finished(url, runs, case_timeout)
                cpu = c.cpu_seconds(daemon.pid)
            finally:
                code = daemon.stop()
                problems = daemon.problems()
            rows = c.execution_rows(url)
            results = execution_results(url)
        finally:
            worker.stop()
    return summarize(rows, results, runs) | {
        "finished_in_time": finished,
        "daemon_exit": code,
        "daemon_cpu_s": cpu,
        "log_problems": problems[:5],
    }


def wait_finished(url: str, runs: int, timeout: float) -> bool:
    from jobctl.store import open_store

    store = open_store(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = store.db.scalar("SELECT COUNT(*) FROM executions WHERE status NOT IN ('pending', 'running')")
            if int(done or 0) >= runs:
                return True
            time.sleep(0.2)
        return False
    finally:
        store.close()


def execution_results(url: str) -> dict[str, Any]:
    from jobctl.store import open_store

    store = open_store(url)
    try:
        rows = store.db.fetch_all("SELECT result, celery_task_id FROM executions")
    finally:
        store.close()
    return {"results": [row["result"] for row in rows], "task_ids": [row["celery_task_id"] for row in rows]}


def summarize(rows: list[dict[str, Any]], extra: dict[str, Any], runs: int) -> dict[str, Any]:
    done = [r for r in rows if r["started_at"] is not None and r["completed_at"] is not None]
    span = (max(r["completed_at"] for r in done) - min(r["started_at"] for r in done)).total_seconds() if done else 0.0
    latencies = [(r["completed_at"] - r["started_at"]).total_seconds() for r in done]
    statuses = c.integrity(rows)["by_status"]
    task_ids = [t for t in extra["task_ids"] if t]
    right = sum(1 for value in extra["results"] if value and json.loads(value) == {"value": 42})
    return {
        "runs": runs,
        "succeeded": statuses.get("success", 0),
        "statuses": statuses,
        "span_s": span,
        "per_second": len(done) / span if span else float("nan"),
        "latencies": latencies,
        "right_results": right,
        "distinct_task_ids": len(set(task_ids)),
    }


# -- the executor alone -----------------------------------------------------------------------


def run_executor_case(broker: str, runs: int, threads: int, case_timeout: float) -> dict[str, Any]:
    from jobctl.executors.celery_task import CeleryExecutor
    from jobctl.executors.outcome import RunRequest

    broker_url = BROKERS[broker][0]
    with c.temp_dir("jobctl-bench-celery-") as folder:
        worker = Worker(broker_url, folder)
        try:
            worker.wait_ready()
            executor = CeleryExecutor(broker_url=broker_url, result_backend=RESULT_BACKEND)
            request = RunRequest(
                execution_id="bench",
                job_id="bench",
                handler_type="celery_task",
                handler_path=TASK,
                task_args={"a": 20, "b": 22},
                timeout_seconds=case_timeout,
                queue=worker.queue,
            )
            outcomes: list[Any] = []
            lock = threading.Lock()
            remaining = [runs]

            def loop() -> None:
                while True:
                    with lock:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    outcome = executor(request, lambda _: None, lambda: False)
                    with lock:
                        outcomes.append(outcome)

            pool = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
            begun = time.monotonic()
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join(max(0.0, begun + case_timeout - time.monotonic()))
            span = time.monotonic() - begun
        finally:
            worker.stop()
    ok = [o for o in outcomes if o.status.value == "success" and o.result == {"value": 42}]
    return {
        "runs": runs,
        "succeeded": len(ok),
        "span_s": span,
        "per_second": len(outcomes) / span,
        "latencies": [o.duration_seconds for o in outcomes],
        "finished_in_time": len(outcomes) == runs,
    }


# -- report -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000, help="executions per case (default %(default)s)")
    parser.add_argument("--concurrency", default="16,64", help="max_concurrent_runs values (default %(default)s)")
    parser.add_argument("--brokers", default="rabbitmq,redis", help="brokers (default %(default)s)")
    parser.add_argument("--case-timeout", type=float, default=120.0, help="seconds one case may take")
    args = parser.parse_args()
    brokers = [b for b in args.brokers.split(",") if b]
    for broker in brokers:
        if broker not in BROKERS:
            raise c.BenchError(f"unknown broker {broker!r}; choose from {', '.join(BROKERS)}")
        for name, port in ((broker, BROKERS[broker][1]), ("redis (result backend)", 6379)):
            if not reachable(port):
                raise c.BenchError(f"{name} is not reachable on 127.0.0.1:{port}")
    cases: list[dict[str, Any]] = []
    for broker in brokers:
        for concurrency in (int(x) for x in args.concurrency.split(",")):
            c.log(f"{broker}: jobctl daemon, max_concurrent_runs {concurrency}, {args.runs} runs")
            cases.append(
                {
                    "broker": broker,
                    "who": f"jobctl daemon, {concurrency} runs at once",
                    **run_daemon_case(broker, concurrency, args.runs, args.case_timeout),
                }
            )
        c.log(f"{broker}: executor alone, 64 threads, {args.runs} runs")
        cases.append(
            {
                "broker": broker,
                "who": "executor alone (no store), 64 threads",
                **run_executor_case(broker, args.runs, 64, args.case_timeout),
            }
        )
    return report(cases, args.runs)


def report(cases: list[dict[str, Any]], runs: int) -> int:
    c.print_header("Dispatch throughput to Celery (bench/celery_throughput.py)")
    print(
        f"{runs} runs of a `celery_task` (adds two numbers) per case; one worker, {WORKER_PROCESSES} prefork "
        f"processes; results in Redis; jobctl on SQLite. Latency = completedAt - startedAt.\n"
    )
    rows = []
    problems: list[str] = []
    for case in cases:
        lat = case["latencies"]
        rows.append(
            [
                case["broker"],
                case["who"],
                f"{case['succeeded']}/{case['runs']}",
                c.fmt(case["per_second"]),
                c.fmt(1000 * c.percentile(lat, 50), 0),
                c.fmt(1000 * c.percentile(lat, 95), 0),
                c.fmt(1000 * max(lat), 0) if lat else "-",
                c.fmt(case["span_s"], 2),
            ]
        )
        label = f"{case['broker']}, {case['who']}"
        if not case["finished_in_time"] or case["succeeded"] != case["runs"]:
            problems.append(f"{label}: {case['succeeded']} of {case['runs']} succeeded ({case.get('statuses')})")
        if "right_results" in case and case["right_results"] != case["runs"]:
            problems.append(f"{label}: {case['right_results']} right results")
        if case.get("distinct_task_ids", case["runs"]) != case["runs"]:
            problems.append(f"{label}: {case['distinct_task_ids']} distinct celeryTaskIds")
    print(c.md_table(["broker", "dispatcher", "success", "executions/s", "p50 ms", "p95 ms", "max ms", "span s"], rows))
    for case in cases:
        if case.get("log_problems"):
            print(f"\n- {case['broker']}, {case['who']}: daemon log: {case['log_problems'][0][:200]}")
    if problems:
        print("\nPROBLEMS:\n" + "\n".join(f"- {p}" for p in problems))
    c.save_results(
        "celery_throughput",
        {"cases": [{k: v for k, v in case.items() if k != "latencies"} for case in cases], "problems": problems},
    )
    return c.EXIT_ERROR if problems else 0


if __name__ == "__main__":
    c.run_benchmark(main, celery_venv)
