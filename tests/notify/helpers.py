"""Real receivers on 127.0.0.1 for the notifiers' tests: an HTTP server that checks signatures and an
SMTP server with AUTH (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "s3cret-webhook-key"
SMTP_USER, SMTP_PASSWORD = "mailer", "Sm7p-pa55word"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every POST; answers ``status`` after ``delay`` seconds."""

    port: int = 0
    status: int = 200
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                got = self.headers.get("X-Jobctl-Signature", "")
                receiver.received.append(
                    Received(self.path, dict(self.headers), body, hmac.compare_digest(expected, got))
                )
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1 that takes AUTH PLAIN/LOGIN without TLS and keeps each message."""

    messages: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    port: int = 0
    require_auth: bool = True
    _controller: Any = None

    def start(self) -> SmtpServer:
        from email import message_from_bytes

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                server.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        def authenticate(smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                SMTP_USER.encode(), SMTP_PASSWORD.encode(),
            )  # fmt: skip
            if ok:
                server.logins.append(SMTP_USER)
            return AuthResult(success=ok)

        from tests.daemon.helpers import free_port

        self.port = free_port()
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        self._controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticate, auth_require_tls=False,
            auth_required=self.require_auth,
        )  # fmt: skip
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
