"""SIGTERM, SIGINT and SIGHUP reach the daemon's flags, whatever its main thread holds then.

Each case runs in a process of its own: signal handlers belong to a process's main thread, and
the test runner's own SIGINT handling must stay as it is.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.daemon.helpers import ROOT

RUN_SECONDS = 30


def run_script(body: str) -> subprocess.CompletedProcess[str]:
    script = "import os, signal, threading\nfrom jobctl.daemon.process import DaemonSignals\n"
    script += textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=RUN_SECONDS, cwd=ROOT)


def test_a_stop_arriving_while_the_main_thread_holds_the_stop_flags_lock_is_not_a_deadlock() -> None:
    """``Event.wait`` holds the event's lock for a few bytecodes around its sleep; a handler that
    called ``Event.set`` there waited for that lock forever. Here the signal is delivered with
    the lock held on purpose: the process must go on and see the stop."""
    result = run_script(
        """
        signals = DaemonSignals.install()
        with signals.stop._cond:  # as inside Event.wait, between its sleep and its return
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # bytecodes at which the handler runs
                pass
        signals.wait(5)
        print("stop" if signals.stop.is_set() else "no stop")
        """
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "stop\n", "")


@pytest.mark.parametrize(
    ("sent", "seen"),
    [("SIGTERM", "stop"), ("SIGINT", "stop"), ("SIGHUP", "reload")],
)
def test_each_signal_sets_its_flag_and_only_it(sent: str, seen: str) -> None:
    result = run_script(
        f"""
        signals = DaemonSignals.install()
        os.kill(os.getpid(), signal.{sent})
        signals.wait(5)
        print("stop" if signals.stop.is_set() else "-", "reload" if signals.reload.is_set() else "-")
        """
    )
    expected = {"stop": "stop -\n", "reload": "- reload\n"}[seen]
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")


def test_a_signal_sent_by_another_thread_wakes_the_wait_at_once() -> None:
    """The main thread waits in ``select`` on the signal pipe, not in fixed sleeps: a stop sent
    while it waits ends the wait, well before its timeout."""
    result = run_script(
        """
        import time
        signals = DaemonSignals.install()
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
        began = time.monotonic()
        signals.wait(20)
        print(signals.stop.is_set(), time.monotonic() - began < 10)
        """
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "True True\n", "")


def test_signals_received_before_the_first_wait_are_kept() -> None:
    """A stop requested during start-up (store opening, migrations) is acted on at the first wait."""
    result = run_script(
        """
        signals = DaemonSignals.install()
        os.kill(os.getpid(), signal.SIGHUP)
        os.kill(os.getpid(), signal.SIGTERM)
        signals.wait(0)
        print(signals.stop.is_set(), signals.reload.is_set())
        """
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "True True\n", "")
