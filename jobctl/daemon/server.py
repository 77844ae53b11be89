"""The REST API served by uvicorn on a thread of the daemon.

The listening socket is made first, by :func:`bind_listener`, before the daemon opens its store
or may take the lease: a daemon that cannot serve its address has done nothing at all
(docs/daemon-start.md). :func:`start_api_server` then serves on it.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jobctl.config import Config
from jobctl.errors import JobctlError, UsageError
from jobctl.store import Store

if TYPE_CHECKING:
    from jobctl.api.metrics import MetricsEndpoint
    from jobctl.service.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listener:
    """The API's socket, bound and listening (connections wait in its backlog until served)."""

    sock: socket.socket
    host: str
    port: int

    def close(self) -> None:
        self.sock.close()


def bind_listener(host: str, port: int) -> Listener:
    """Bind ``host:port`` and listen on it.

    Listening here, not when the server starts, makes the check complete: with ``SO_REUSEADDR``
    two sockets may both bind a port nobody listens on yet, and the second ``listen`` fails.

    :raises UsageError: (exit 2) when the address cannot be bound or listened on.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return Listener(sock=sock, host=host, port=port)


BACKLOG = 2048
"""uvicorn's default backlog, which it would have set when it listened itself."""


class ApiServer:
    """uvicorn running the API app; ``stop()`` ends it gracefully."""

    def __init__(self, server: object, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    def stop(self) -> None:
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout=10)


def start_api_server(
    store: Store,
    config: Config,
    *,
    listener: Listener,
    on_change: Callable[[], None],
    settings: Callable[[], ServiceSettings],
    metrics: MetricsEndpoint | None = None,
) -> ApiServer:
    """Serve on ``listener``, returning once the server has started.

    ``settings`` gives the daemon's settings in force (as reloaded), asked once per request;
    ``config`` is read here only for what applies from a start (``[daemon] docs``).

    :raises JobctlError: when the server stopped before it started serving (its log says why).
    """
    import uvicorn

    from jobctl.api import create_app

    app = create_app(store, settings=settings, on_change=on_change, docs=config.api_docs, metrics=metrics)
    server_config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=5)
    server = uvicorn.Server(server_config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener.sock]}, name="api", daemon=True)
    thread.start()
    while not server.started:
        thread.join(STARTED_POLL_SECONDS)
        if not thread.is_alive():
            raise JobctlError(f"the API server on {listener.host}:{listener.port} stopped before it started serving")
    host, port = listener.host, listener.port
    log.info("API listening on http://%s:%d", host, port)
    if config.api_docs:
        log.info("API docs at http://%s:%d/docs (browsers load Swagger UI from cdn.jsdelivr.net)", host, port)
    return ApiServer(server, thread)


STARTED_POLL_SECONDS = 0.01
