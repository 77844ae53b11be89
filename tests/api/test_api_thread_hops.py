"""How many times a request crosses into the thread pool: once for a read, twice for a write.

Every plain ``def`` dependency or route is one hop to a worker thread and back, and each hop
costs throughput (bench/README.md). The token lookup reads the store, so it must stay off the
loop, but it shares a thread with the read's operation, and with the role check before a
write's body is read; dependencies that do no I/O are ``async``.
"""

from __future__ import annotations

import inspect

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from jobctl.api.routes import catalog, executions, jobs


def runs_on_the_loop(call: object) -> bool:
    """Whether FastAPI awaits ``call`` rather than sending it to a worker thread."""
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call)
    return inspect.iscoroutinefunction(type(call).__call__)  # an instance such as HTTPBearer


def hops(dependant: Dependant) -> int:
    """Sync callables FastAPI runs in its thread pool to answer through ``dependant``."""
    own = 0 if dependant.call is None or runs_on_the_loop(dependant.call) else 1
    return own + sum(hops(sub) for sub in dependant.dependencies)


def routes(*, reads: bool) -> dict[str, int]:
    """Each scheduler route (method and path) with its hops."""
    every = [*jobs.router.routes, *executions.router.routes, *catalog.router.routes]
    found = [route for route in every if isinstance(route, APIRoute)]
    return {
        f"{sorted(route.methods)[0]} {route.path}": hops(route.dependant)
        for route in found
        if (route.methods == {"GET"}) == reads
    }


def test_a_read_crosses_into_the_thread_pool_once() -> None:
    reads = routes(reads=True)
    assert len(reads) >= 10
    assert reads == dict.fromkeys(reads, 1)


def test_a_write_crosses_into_the_thread_pool_twice() -> None:
    """The token and the role in one hop before the body is read, the operation in the other."""
    writes = routes(reads=False)
    assert len(writes) >= 5
    assert writes == dict.fromkeys(writes, 2)
