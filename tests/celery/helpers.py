"""Real brokers, a real Celery worker process, a cuttable TCP proxy, and daemon configs with ``[celery]``."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobctl.models import TaskFunctionSpec
from jobctl.service import Service
from jobctl.store import Store
from tests.daemon.helpers import ROOT, DaemonFactory, DaemonProcess, wait_for

RESULT_BACKEND = "redis://127.0.0.1:6379/13"


@dataclass(frozen=True)
class Broker:
    """A broker the tests run against; ``url_for_port`` points the same broker at another port (a proxy)."""

    name: str
    scheme: str
    port: int
    suffix: str

    @property
    def url(self) -> str:
        return self.url_for_port(self.port)

    def url_for_port(self, port: int, *, password: str | None = None) -> str:
        if self.scheme == "amqp":
            return f"amqp://guest:{password or 'guest'}@127.0.0.1:{port}{self.suffix}"
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{port}{self.suffix}"

    @property
    def unreachable_url(self) -> str:
        """The same kind of broker on a port nothing listens on, with a password to be masked."""
        return self.url_for_port(1, password="s3cret")


BROKERS = {
    "rabbitmq": Broker("rabbitmq", "amqp", 5672, "//"),
    "redis": Broker("redis", "redis", 6379, "/12"),
}


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


# -- the worker -------------------------------------------------------------------------------


@dataclass
class Worker:
    """``celery -A tests.celery.tasks worker`` on its own queue, in its own process group."""

    broker: Broker
    queue: str
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.celery.tasks",
            "worker",
            "-Q",
            self.queue,
            "-c",
            "2",
            "-P",
            "prefork",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{self.queue}@%h",
            "--loglevel",
            "INFO",
        ]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "JOBCTL_TEST_CELERY_BROKER": self.broker.url,
            "JOBCTL_TEST_CELERY_BACKEND": RESULT_BACKEND,
        }
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(ROOT), start_new_session=True
            )
        wait_for(
            lambda: " ready." in self.log() or self.proc.poll() is not None,  # type: ignore[union-attr]
            timeout=30,
            what="celery worker start",
        )
        assert self.proc.poll() is None, self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Cold shutdown (SIGQUIT: running tasks are not waited for), then SIGKILL to what is left of its group."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the worker leads its own group (it and its pool children)
        if self.proc.poll() is None:
            os.killpg(pgid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        delete_queue(self.broker.url, self.queue)


def delete_queue(broker_url: str, queue: str) -> None:
    """Remove the test's queue from the broker (Celery declares it durable; on Redis, kombu's
    binding keys for it outlive a queue_delete)."""
    from kombu.connection import Connection

    with contextlib.suppress(Exception), Connection(broker_url, connect_timeout=3) as connection:  # type: ignore[no-untyped-call]
        channel = connection.default_channel
        channel.queue_delete(queue)
        if broker_url.startswith("redis://"):
            with channel.conn_or_acquire() as client:
                client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def task_state(task_id: str) -> str:
    """The task's state as the result backend has it."""
    from celery import Celery

    app = Celery("jobctl-test-reader", backend=RESULT_BACKEND, set_as_current=False)
    return str(app.AsyncResult(task_id).state)


# -- a proxy that can be cut ------------------------------------------------------------------


@dataclass
class TcpProxy:
    """Relays 127.0.0.1:``port`` to 127.0.0.1:``target``; ``cut`` refuses and drops every connection.

    Stands in for a broker outage without stopping the real broker that other work uses.
    """

    target: int
    port: int = 0
    _listener: socket.socket | None = None
    _open: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stop = threading.Event()
        threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True).start()
        return self

    def cut(self) -> None:
        self._stop.set()
        with self._lock:
            doomed, self._open = self._open, []
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def restore(self) -> None:
        self.start()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if stop.is_set():
                    client.close()
                    upstream.close()
                    return
                self._open += [client, upstream]
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# -- store and config -------------------------------------------------------------------------


def register(store: Store, spec: TaskFunctionSpec) -> int:
    """Store the task function (as the operator would); its id."""
    return store.catalog.upsert_task_function(spec, datetime.now(UTC)).id


def celery_spec(name: str, task: str, queue: str) -> TaskFunctionSpec:
    return TaskFunctionSpec(
        name=name,
        display_name=name,
        description=None,
        handler_type="celery_task",
        handler_path=f"tests.celery.tasks.{task}",
        queue=queue,
    )


def write_celery_config(
    path: Path, *, broker_url: str, specs: list[TaskFunctionSpec], result_backend: str = RESULT_BACKEND, **daemon: Any
) -> Path:
    """A daemon config with ``[celery]`` and the task functions (so the daemon keeps them active)."""
    settings = {"lease_ttl_seconds": 15, "shutdown_grace_seconds": 5, **daemon}
    lines = ["[scheduler]", 'timezone = "UTC"', "misfire_grace_seconds = 1", "", "[daemon]"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    lines += ["", "[celery]", f'broker_url = "{broker_url}"', f'result_backend = "{result_backend}"']
    for spec in specs:
        lines += [
            "",
            "[[task_functions]]",
            f'name = "{spec.name}"',
            'handler_type = "celery_task"',
            f'handler_path = "{spec.handler_path}"',
            f'queue = "{spec.queue}"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


# -- one test's setup -------------------------------------------------------------------------


@dataclass
class CeleryEnv:
    """One test's store, the module's worker, and the daemons the test starts."""

    store_url: str
    store: Store
    service: Service
    worker: Worker
    folder: Path
    specs: list[TaskFunctionSpec] = field(default_factory=list)
    factories: list[DaemonFactory] = field(default_factory=list)

    def job(self, name: str, task: str, **fields: Any) -> dict[str, Any]:
        """A job on ``tests.celery.tasks.<task>`` (hourly unless ``scheduleConfig`` says otherwise)."""
        spec = celery_spec(f"celery-{name}", task, self.worker.queue)
        self.specs.append(spec)
        task_function_id = register(self.store, spec)
        body = {
            "name": name,
            "taskFunctionId": task_function_id,
            "jobTypeId": 1,
            "scheduleConfig": {"hours": 1},
            "taskArgs": {},
            **fields,
        }
        return self.service.create_job(body)

    def shell_job(self, name: str, command: str) -> dict[str, Any]:
        body = {
            "name": name,
            "taskFunctionId": 1,
            "jobTypeId": 1,
            "scheduleConfig": {"seconds": 1},
            "taskArgs": {"command": command},
        }
        return self.service.create_job(body)

    def config(self, name: str, *, broker_url: str | None = None, **daemon: Any) -> Path:
        """A config file with ``[celery]`` (the worker's broker unless ``broker_url``) and the tests' task functions."""
        path = write_celery_config(
            self.folder / name, specs=self.specs, broker_url=broker_url or self.worker.broker.url, **daemon
        )
        path.chmod(0o600)  # it holds the broker's password
        return path

    def start_daemon(self, *, broker_url: str | None = None, **daemon: Any) -> DaemonProcess:
        """A ``jobctl daemon --no-api`` with ``[celery]`` (the worker's broker unless ``broker_url``)."""
        index = len(self.factories)
        config = self.config(f"jobctl-{index}.toml", broker_url=broker_url, **daemon)
        workdir = self.folder / f"daemon-{index}"
        workdir.mkdir()
        factory = DaemonFactory(self.store_url, config, workdir)
        self.factories.append(factory)
        return factory.start()

    def print_logs(self) -> None:
        for factory in self.factories:
            for daemon in factory.started:
                print(f"--- {daemon.log_path}\n{daemon.log()[-6000:]}")
        print(f"--- worker log (tail)\n{self.worker.log()[-4000:]}")
