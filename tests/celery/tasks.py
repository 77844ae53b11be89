"""The Celery tasks the tests' worker runs: ``celery -A tests.celery.tasks worker``.

Broker and result backend come from ``$JOBCTL_TEST_CELERY_BROKER`` and
``$JOBCTL_TEST_CELERY_BACKEND`` (set by the fixture that starts the worker).
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Celery

app = Celery(
    "jobctl-tests",
    broker=os.environ.get("JOBCTL_TEST_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//"),
    backend=os.environ.get("JOBCTL_TEST_CELERY_BACKEND", "redis://127.0.0.1:6379/13"),
)
app.conf.update(broker_connection_retry_on_startup=True)


@app.task(name="tests.celery.tasks.add")  # type: ignore[untyped-decorator]
def add(a: int, b: int) -> int:
    return a + b


@app.task(name="tests.celery.tasks.boom")  # type: ignore[untyped-decorator]
def boom() -> None:
    raise ValueError("boom from the worker")


@app.task(name="tests.celery.tasks.slow")  # type: ignore[untyped-decorator]
def slow(seconds: float) -> dict[str, Any]:
    time.sleep(seconds)
    return {"slept": seconds}
