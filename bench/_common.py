"""Shared helpers of the benchmark scripts (standard library only at import time).

Each ``bench/NAME.py`` runs under any Python >= 3.11, builds the virtual environments it needs
under ``bench/.venv-*`` (reused when present, jobctl re-installed when its source changed) and
re-runs itself inside the jobctl one, so that seeding, polling and checking can use jobctl's
own service and store code. Processes started here are tracked by PID and ended on exit.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PG_ADMIN = {"host": "127.0.0.1", "port": "5432", "user": "postgres", "dbname": "test"}
APS_REQUIREMENTS = ["apscheduler>=3.11,<4", "sqlalchemy>=2.0", "psycopg[binary]>=3.1"]
EXIT_ERROR = 1
"""The benchmark could not run, or jobctl misbehaved (wrong status, missing or duplicate runs)."""
EXIT_TARGET_MISSED = 2
"""Everything ran and checked out, but at least one target was missed."""


def log(message: str) -> None:
    """Progress for the person running the benchmark, on stderr (stdout carries the tables)."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class BenchError(Exception):
    """The benchmark cannot continue."""


# -- virtual environments ----------------------------------------------------------------------


def source_hash() -> str:
    """A digest of the jobctl package source and pyproject.toml (what ``pip install`` copies)."""
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", *sorted((ROOT / "jobctl").rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for key in ("PYTHONDONTWRITEBYTECODE", "PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV"):
        env.pop(key, None)
    return env


def _pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    done = subprocess.run(cmd, env=_clean_env(), capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        noise = [line for line in done.stderr.splitlines() if "is ignored: it is neither" not in line]
        raise BenchError(f"pip install {' '.join(args)} failed:\n" + "\n".join(noise[-20:]))


def ensure_venv(name: str, requirements: Sequence[str] = (), *, jobctl: bool = False) -> Path:
    """``bench/.venv-NAME`` with ``requirements`` (and jobctl from this tree, not editable); its python.

    Reused when present: requirements are installed once (recorded in a stamp file), jobctl is
    re-installed whenever its source changed, and site-packages is byte-compiled afterwards.
    """
    import fcntl

    folder = BENCH / f".venv-{name}"
    lock_path = Path(tempfile.gettempdir()) / f"jobctl-bench-venv-{name}.lock"
    with open(lock_path, "w") as lock:  # two benchmarks starting at once: one pip at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure_venv(folder, requirements, jobctl=jobctl)


def _ensure_venv(folder: Path, requirements: Sequence[str], *, jobctl: bool) -> Path:
    python = folder / "bin" / "python"
    stamp_path = folder / "bench-stamp.json"
    stamp: dict[str, Any] = {}
    if python.exists() and stamp_path.exists():
        with contextlib.suppress(ValueError):
            stamp = json.loads(stamp_path.read_text())
    if not python.exists():
        log(f"creating {folder.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, env=_clean_env(), timeout=300)
        stamp = {}
    wanted = sorted(requirements)
    changed = False
    if stamp.get("requirements") != wanted:
        if wanted:
            log(f"{folder.name}: pip install {' '.join(wanted)}")
            _pip(python, *wanted)
        stamp["requirements"] = wanted
        changed = True
    if jobctl:
        current = source_hash()
        if stamp.get("jobctl") != current:
            log(f"{folder.name}: pip install {ROOT} (source {current})")
            _pip(python, str(ROOT))  # picks up dependencies added since the last install
            if stamp.get("jobctl") is not None:
                _pip(python, "--no-deps", "--force-reinstall", str(ROOT))
            stamp["jobctl"] = current
            changed = True
    if changed:
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(
            [str(python), "-m", "compileall", "-q", "-j", "0", site], env=_clean_env(), capture_output=True, timeout=600
        )
        stamp_path.write_text(json.dumps(stamp, indent=1))
    return python


def jobctl_venv() -> Path:
    """The venv with jobctl installed from this tree (non-editable, byte-compiled): ``bench/.venv-cli``."""
    return ensure_venv("cli", jobctl=True)


def aps_venv() -> Path:
    return ensure_venv("aps", APS_REQUIREMENTS)


def reexec_in(make_venv: Any, marker: str = "--in-venv") -> None:
    """Run this script again under the python ``make_venv()`` returns (unless already there); exit with its code."""
    if marker in sys.argv:
        sys.argv.remove(marker)
        return
    try:
        python = make_venv()
    except BenchError as exc:
        log(f"FAILED: {exc}")
        sys.exit(EXIT_ERROR)
    env = _clean_env()
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(BENCH)
    proc = subprocess.Popen([str(python), sys.argv[0], marker, *sys.argv[1:]], env=env)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        code = proc.wait()
    sys.exit(code)


def run_benchmark(main: Any, make_venv: Any = None) -> None:
    """The ``__main__`` of every script: re-run under its venv (default: jobctl's), then ``main()``.

    ``main`` returns the exit code; a :class:`BenchError` is one ``FAILED`` line and exit 1.
    """
    reexec_in(make_venv or jobctl_venv)
    try:
        sys.exit(main())
    except BenchError as exc:
        log(f"FAILED: {exc}")
        sys.exit(EXIT_ERROR)


def with_peer_venvs() -> Path:
    """jobctl's venv, after APScheduler's (the peer) and, with ``--py-spy``, the profiler's."""
    aps_venv()
    if "--py-spy" in sys.argv:
        prof_venv()
    return jobctl_venv()


def venv_bin(python: Path, name: str) -> Path:
    return python.parent / name


def run_env(**extra: str) -> dict[str, str]:
    """The environment for the processes a benchmark starts: no inherited JOBCTL_* or bytecode flags."""
    env = {key: value for key, value in _clean_env().items() if not key.startswith("JOBCTL_")}
    env.update(extra)
    return env


# -- statistics and tables ---------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100) of ``values``; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(value: float | None, peer: float | None, digits: int = 2) -> str:
    if value is None or peer is None or not peer or math.isnan(value) or math.isnan(peer):
        return "-"
    return f"{value / peer:.{digits}f}x"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[fmt(c) if not isinstance(c, str) else c for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[0])) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for row in cells[1:]:
        lines.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |")
    return "\n".join(lines)


def print_header(title: str) -> None:
    print(f"## {title}\n")
    print(
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; host: {platform.node()}, "
        f"{os.cpu_count()} cores, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"- python {platform.python_version()} ({sys.executable}); jobctl measured: {installed_hash()} "
        f"(source hash of the tree installed into the venv; the tree is now {source_hash()})"
    )
    print(f"- command: python bench/{Path(sys.argv[0]).name} {' '.join(sys.argv[1:])}".rstrip())
    print()


def installed_hash() -> str:
    """The jobctl source hash installed in the running venv (what a benchmark measured)."""
    with contextlib.suppress(OSError, ValueError):
        return str(json.loads((Path(sys.prefix) / "bench-stamp.json").read_text()).get("jobctl", "?"))
    return "?"


def save_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    data = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(),
        "jobctl_source": installed_hash(),
        "load_average": os.getloadavg(),
        **data,
    }
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


# -- processes --------------------------------------------------------------------------------

_started: dict[int, subprocess.Popen[Any]] = {}


def spawn(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start a process that :func:`stop` (or the exit handler) ends by its PID."""
    proc = subprocess.Popen(list(cmd), **kwargs)
    _started[proc.pid] = proc
    return proc


def stop(proc: subprocess.Popen[Any], *, timeout: float = 20.0, sig: int = signal.SIGTERM) -> int | None:
    """SIGTERM (then SIGKILL after ``timeout``) one process we started; returns its exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"pid {proc.pid} did not stop within {timeout:.0f}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=10)
    _started.pop(proc.pid, None)
    return proc.returncode


def _stop_all() -> None:
    for proc in list(_started.values()):
        stop(proc, timeout=10)


atexit.register(_stop_all)


def _on_signal(signum: int, _frame: Any) -> None:
    _stop_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from /proc/PID/stat, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return math.nan


# -- stores -----------------------------------------------------------------------------------


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _psql(sql: str) -> None:
    cmd = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        PG_ADMIN["host"],
        "-p",
        PG_ADMIN["port"],
        "-U",
        PG_ADMIN["user"],
        "-d",
        PG_ADMIN["dbname"],
        "-c",
        sql,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise BenchError(f"psql failed: {sql}: {done.stderr.strip()}")


def psql_create_database(name: str) -> None:
    """Create the Postgres database ``name`` unless it exists (a store kept between runs)."""
    if not name.replace("_", "").isalnum():
        raise BenchError(f"not a plain database name: {name!r}")
    try:
        _psql(f"CREATE DATABASE {name}")
    except BenchError as exc:
        if "already exists" not in str(exc):
            raise


def pg_available() -> bool:
    try:
        _psql("SELECT 1")
    except (BenchError, OSError, subprocess.TimeoutExpired):
        return False
    return True


@contextlib.contextmanager
def pg_database(tag: str) -> Iterator[str]:
    """A fresh Postgres database for one run (dropped afterwards); yields its SQLAlchemy URL."""
    name = f"jobctl_bench_{tag}_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    _psql(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg://{PG_ADMIN['user']}@{PG_ADMIN['host']}:{PG_ADMIN['port']}/{name}"
    finally:
        try:
            _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except BenchError as exc:
            log(f"could not drop {name}: {exc}")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# -- jobctl (only inside the jobctl venv) -----------------------------------------------------


def open_service(url: str, timezone: str = "UTC") -> Any:
    from jobctl.models import Caller, Role
    from jobctl.service import Service
    from jobctl.store import open_store

    store = open_store(url)
    return Service(store, Caller(user_id="bench", role=Role.ADMIN), default_timezone=timezone)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_daemon_config(folder: Path, **daemon: Any) -> Path:
    """A TOML config with ``[daemon]`` keys (and UTC as the scheduler zone)."""
    lines = ["[daemon]"] + [f"{key} = {json.dumps(value)}" for key, value in daemon.items()]
    lines += ["", "[scheduler]", 'timezone = "UTC"', ""]
    path = folder / "jobctl.toml"
    path.write_text("\n".join(lines))
    return path


class Daemon:
    """A ``jobctl daemon`` child: started with its log in a file, ready once it logs ``started``."""

    def __init__(
        self,
        jobctl: Path,
        url: str,
        config: Path,
        folder: Path,
        *,
        api: bool = False,
        port: int = 0,
        name: str = "daemon",
    ) -> None:
        self.log_path = folder / f"{name}.log"
        self.started_at = time.monotonic()
        args = [str(jobctl), "--db", url, "--config", str(config), "daemon"]
        args += ["--port", str(port)] if api else ["--no-api"]
        self._log = self.log_path.open("wb")
        self.proc = spawn(args, stdout=self._log, stderr=subprocess.STDOUT, env=run_env(XDG_CONFIG_HOME=str(folder)))
        self.pid = self.proc.pid

    def wait_started(self, timeout: float = 30.0) -> float:
        """Seconds from spawn to the ``instance ... started`` log line. :raises BenchError:"""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" started (leader" in self.log_path.read_bytes():
                return time.monotonic() - self.started_at
            if self.proc.poll() is not None:
                raise BenchError(f"daemon exited with {self.proc.returncode}:\n{self.log_tail()}")
            time.sleep(0.01)
        raise BenchError(f"daemon did not log 'started' within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def problems(self) -> list[str]:
        """WARNING/ERROR lines and tracebacks in the daemon's log."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in text if " WARNING " in line or " ERROR " in line or "Traceback" in line]

    def stop(self, timeout: float = 60.0) -> int | None:
        code = stop(self.proc, timeout=timeout)
        self._log.close()
        return code

    def keep_log(self, name: str) -> Path:
        """Copy the daemon's log to bench/results/ (done when a run found problems)."""
        RESULTS.mkdir(exist_ok=True)
        target = RESULTS / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.log"
        shutil.copyfile(self.log_path, target)
        return target


def wait_leader(url: str, instance_pid: int, timeout: float = 30.0) -> None:
    """Poll the store until the instance with ``instance_pid`` holds the lease."""
    service = open_service(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = service.get_status()
            leader = status.get("leaderInstance") or {}
            if status.get("isRunning") and leader.get("pid") == instance_pid:
                return
            time.sleep(0.02)
        raise BenchError(f"daemon pid {instance_pid} did not become leader within {timeout:.0f}s: {status}")
    finally:
        service.store.close()


def execution_rows(url: str) -> list[dict[str, Any]]:
    """Every execution with its timestamps as aware datetimes (via jobctl's own store layer)."""
    from jobctl.store import open_store
    from jobctl.store.database import to_utc

    store = open_store(url)
    try:
        rows = store.db.fetch_all(
            "SELECT id, job_id, status, scheduled_for, attempt, started_at, completed_at, triggered_by, "
            "error_message, created_at FROM executions"
        )
    finally:
        store.close()
    for row in rows:
        for key in ("scheduled_for", "started_at", "completed_at", "created_at"):
            row[key] = to_utc(row[key])
    return rows


def integrity(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts by status and duplicates of ``(job_id, scheduled_for, attempt)``."""
    by_status: dict[str, int] = {}
    keys: dict[tuple[Any, ...], int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
        if row["scheduled_for"] is not None:
            key = (row["job_id"], row["scheduled_for"], row["attempt"])
            keys[key] = keys.get(key, 0) + 1
    duplicates = sum(count - 1 for count in keys.values() if count > 1)
    return {"by_status": by_status, "duplicates": duplicates, "total": len(rows)}


# -- APScheduler (bench/.venv-aps) --------------------------------------------------------------


def aps_python() -> Path:
    python = BENCH / ".venv-aps" / "bin" / "python"
    if not python.exists():
        raise BenchError("bench/.venv-aps is missing (the script builds it before re-running itself)")
    return python


def aps_start(mode: str, spec: dict[str, Any], folder: Path, *, stderr: Any = None) -> subprocess.Popen[Any]:
    """Start ``_aps_worker.py MODE`` with ``spec``; read its result with :func:`aps_result`."""
    spec_path = folder / f"aps-{mode}-{time.monotonic_ns()}.json"
    spec_path.write_text(json.dumps(spec))
    return spawn(
        [str(aps_python()), str(BENCH / "_aps_worker.py"), mode, str(spec_path)],
        stdout=subprocess.PIPE,
        stderr=stderr if stderr is not None else subprocess.PIPE,
        env=run_env(),
    )


def aps_result(proc: subprocess.Popen[Any], timeout: float) -> dict[str, Any]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        stop(proc, timeout=5)
        raise BenchError(f"APScheduler worker took longer than {timeout:.0f}s") from exc
    _started.pop(proc.pid, None)
    if proc.returncode != 0:
        raise BenchError(f"APScheduler worker failed ({proc.returncode}): {(err or b'').decode()[-2000:]}")
    return json.loads(out)


def aps_run(mode: str, spec: dict[str, Any], folder: Path, timeout: float = 300) -> dict[str, Any]:
    return aps_result(aps_start(mode, spec, folder), timeout)


# -- profiling (bench/.venv-prof) ---------------------------------------------------------------


def prof_venv() -> Path:
    return ensure_venv("prof", ["py-spy", "pyinstrument"])


def py_spy_start(pid: int, seconds: float, name: str, *, idle: bool = False) -> tuple[subprocess.Popen[Any], Path]:
    """``py-spy record`` of ``pid`` for ``seconds`` into bench/results/NAME.txt (collapsed stacks)."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.txt"
    cmd = [
        str(BENCH / ".venv-prof" / "bin" / "py-spy"),
        "record",
        "-p",
        str(pid),
        "-d",
        str(max(1, int(seconds))),
        "-r",
        "250",
        "-f",
        "raw",
        "-o",
        str(out),
        "--threads",
        "--nonblocking",
    ]
    if idle:
        cmd.append("--idle")
    if os.environ.get("BENCH_PY_SPY_GIL"):
        cmd.append("--gil")
    return spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def collapsed_top(path: Path, limit: int = 15, own: bool = False) -> list[tuple[str, int, float]]:
    """(function, samples, share) from py-spy's collapsed stacks: inclusive time (or own time)."""
    totals: dict[str, int] = {}
    samples = 0
    if not path.exists():
        return []
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = stack.split(";")
        seen = {frames[-1]} if own else set(frames)
        for frame in seen:
            if frame.startswith("thread ") or frame.startswith("process "):
                continue
            totals[frame] = totals.get(frame, 0) + count
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:limit]
    return [(frame, count, count / samples if samples else 0.0) for frame, count in ranked]
