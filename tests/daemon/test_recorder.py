"""The outcome recorder: batches under load, retries a store outage, isolates a faulty item."""

from __future__ import annotations

import threading
import time

from jobctl.errors import StoreError, StoreUnavailable
from jobctl.scheduler.recorder import OutcomeRecorder


class Sink:
    def __init__(
        self, *, fail_store_times: int = 0, poison: int | None = None, refused: int | None = None, slow: float = 0.0
    ) -> None:
        self.batches: list[list[int]] = []
        self.written: list[int] = []
        self.handed_on: list[int] = []
        self.failed: list[tuple[int, str]] = []
        self.fail_store_times = fail_store_times
        self.poison = poison
        self.refused = refused
        self.slow = slow
        self.lock = threading.Lock()

    def write(self, batch: list[int]) -> None:
        time.sleep(self.slow)
        if self.fail_store_times:
            self.fail_store_times -= 1
            raise StoreUnavailable("store unreachable")
        if self.refused in batch:
            raise StoreError(f"store refused {self.refused}")
        if self.poison in batch:
            raise ValueError(f"cannot record {self.poison}")
        with self.lock:
            self.batches.append(list(batch))
            self.written.extend(batch)

    def on_written(self, batch: list[int]) -> None:
        with self.lock:
            self.handed_on.extend(batch)

    def on_failed(self, item: int, error: Exception) -> None:
        self.failed.append((item, str(error)))

    def recorder(self, closing: threading.Event | None = None) -> OutcomeRecorder[int]:
        return OutcomeRecorder(
            self.write,
            on_written=self.on_written,
            on_failed=self.on_failed,
            chores=lambda: None,
            chore_interval=0.05,
            closing=closing or threading.Event(),
        )


def wait_until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_outcomes_piling_up_behind_a_commit_share_the_next_one() -> None:
    sink = Sink(slow=0.05)
    recorder = sink.recorder()
    for item in range(200):
        recorder.put(item)
    wait_until(lambda: len(sink.handed_on) == 200)
    recorder.close()
    assert sorted(sink.written) == list(range(200)) and sorted(sink.handed_on) == list(range(200))
    assert len(sink.batches) < 20, f"200 outcomes in {len(sink.batches)} transactions"


def test_a_store_outage_is_retried_until_the_store_takes_the_batch() -> None:
    sink = Sink(fail_store_times=2)
    recorder = sink.recorder()
    recorder.put(1)
    wait_until(lambda: sink.handed_on == [1])
    recorder.close()
    assert sink.written == [1] and not sink.failed


def test_a_faulty_outcome_fails_alone() -> None:
    sink = Sink(poison=3, slow=0.02)
    recorder = sink.recorder()
    for item in range(6):
        recorder.put(item)
    wait_until(lambda: len(sink.handed_on) == 6)
    recorder.close()
    assert sorted(sink.written) == [0, 1, 2, 4, 5]
    assert sink.failed == [(3, "cannot record 3")]


def test_when_closing_a_lasting_outage_is_given_up_on_not_waited_out() -> None:
    closing = threading.Event()
    sink = Sink(fail_store_times=100)
    recorder = sink.recorder(closing)
    closing.set()
    begin = time.monotonic()
    recorder.put(1)
    wait_until(lambda: sink.handed_on == [1])
    recorder.close()
    assert sink.written == [] and time.monotonic() - begin < 5


def test_a_value_the_store_refuses_fails_that_outcome_alone_and_is_not_retried() -> None:
    """A data error (Postgres refusing a value) is no outage: retrying the batch would block
    every later outcome forever."""
    sink = Sink(refused=2, slow=0.02)
    recorder = sink.recorder()
    for item in range(5):
        recorder.put(item)
    wait_until(lambda: len(sink.handed_on) == 5, timeout=3)
    recorder.close()
    assert sorted(sink.written) == [0, 1, 3, 4]
    assert sink.failed == [(2, "store refused 2")]
