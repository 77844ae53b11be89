"""The Celery task of ``bench/celery_throughput.py``; its worker runs ``celery -A _celery_tasks worker``."""

from __future__ import annotations

import os

from celery import Celery

app = Celery("jobctl-bench", broker=os.environ["JOBCTL_BENCH_BROKER"], backend=os.environ["JOBCTL_BENCH_BACKEND"])
app.conf.update(broker_connection_retry_on_startup=True)


@app.task(name="bench.add")
def add(a: int, b: int) -> int:
    return a + b
