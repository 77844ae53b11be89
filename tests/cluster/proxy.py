"""A small threaded TCP proxy in front of Postgres that a test can cut off and restore.

One proxy per daemon, so a test can isolate exactly one instance from the store:

- ``cut()``: every open connection is reset (RST) and new ones are accepted and reset at once,
  as when a host loses its route to the server or the server restarts;
- ``blackhole()``: connections stay open but nothing is forwarded either way (bytes wait in the
  proxy), and new connections are accepted but never answered. On loopback the kernel still
  acknowledges every byte, so the client's TCP keepalives and ``tcp_user_timeout`` never fire:
  this is a silent partition as seen through a hung middlebox or server, not packet loss;
- ``restore()``: forwarding resumes (blackholed connections carry on where they stopped).

Only 127.0.0.1 is used, on a port the kernel picks.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit

OPEN, CUT, BLACKHOLE = "open", "cut", "blackhole"


def _reset(sock: socket.socket) -> None:
    """Close with RST rather than FIN: the peer sees 'connection reset' at once."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Pair:
    """One client connection and its upstream connection, pumped by one thread."""

    def __init__(self, proxy: TcpProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.upstream_port = upstream.getsockname()[1]
        self.closed = threading.Event()

    def pump(self) -> None:
        peer = {self.client: self.upstream, self.upstream: self.client}
        try:
            while not self.closed.is_set():
                if not self.proxy.flowing.wait(0.1):
                    continue
                readable, _, _ = select.select(list(peer), [], [], 0.1)
                if not self.proxy.flowing.is_set():
                    continue  # blackholed meanwhile: leave the bytes where they are
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peer[sock].sendall(data)
        except (OSError, ValueError):  # ValueError: closed by cut() from another thread
            return
        finally:
            self.close(reset=False)

    def close(self, *, reset: bool) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.upstream):
            if reset:
                _reset(sock)
            else:
                with contextlib.suppress(OSError):
                    sock.close()
        self.proxy._forget(self)


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; see the module docstring for the modes."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.mode = OPEN
        self.flowing = threading.Event()
        self.flowing.set()
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._held: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port: int = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self.accepted = 0
        self.refused = 0
        self._thread = threading.Thread(target=self._accept_loop, name=f"proxy-{self.port}", daemon=True)
        self._thread.start()

    # -- control ------------------------------------------------------------------------------

    def cut(self) -> None:
        """Reset every open connection and every new one until :meth:`restore`."""
        with self._lock:
            self.mode = CUT
            self.flowing.clear()
            pairs = list(self._pairs)
        for pair in pairs:
            pair.close(reset=True)

    def blackhole(self) -> None:
        """Stop forwarding, keep the sockets open (a silent partition) until :meth:`restore`."""
        with self._lock:
            self.mode = BLACKHOLE
            self.flowing.clear()

    def restore(self) -> None:
        """Forward again; connections held while blackholed are connected upstream now."""
        with self._lock:
            self.mode = OPEN
            held, self._held = self._held, []
        for client in held:
            self._connect(client)
        self.flowing.set()

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            pairs, held = list(self._pairs), self._held
            self._held = []
        for pair in pairs:
            pair.close(reset=True)
        for client in held:
            _reset(client)
        self._thread.join(timeout=5)

    # -- inspection ---------------------------------------------------------------------------

    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def upstream_ports(self) -> list[int]:
        """Local ports of the upstream sockets: ``client_port`` in ``pg_stat_activity``."""
        with self._lock:
            return [pair.upstream_port for pair in self._pairs]

    def url_for(self, url: str) -> str:
        """``url`` (a postgresql URL) with its host and port replaced by this proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    # -- internals ----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                readable, _, _ = select.select([self._listener], [], [], 0.2)
                if not readable:
                    continue
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
                if mode == BLACKHOLE:
                    self._held.append(client)
            if mode == CUT:
                self.refused += 1
                _reset(client)
            elif mode == OPEN:
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            _reset(client)
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = _Pair(self, client, upstream)
        with self._lock:
            refused = self.mode == CUT or self._stopped.is_set()
            if not refused:
                self._pairs.add(pair)
                self.accepted += 1
        if refused:
            pair.close(reset=True)
            return
        threading.Thread(target=pair.pump, name=f"proxy-{self.port}-pair", daemon=True).start()

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            self._pairs.discard(pair)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
