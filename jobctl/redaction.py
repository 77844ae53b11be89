"""Passwords masked out of every text jobctl prints or logs.

A store or broker URL can carry a password in several places, and any of them may end up in an
error message (a refused connection, a malformed URL) or a log line:

- the userinfo of a URL: ``postgresql+psycopg://user:SECRET@host/db``, ``redis://:SECRET@host``;
- a query parameter: ``...?password=SECRET``, ``...&sslpassword=SECRET``;
- a parameter inside another one, URL-encoded: ``?options=-c%20password%3DSECRET``;
- a libpq connection string: ``host=h password=SECRET`` or ``password='SEC RET'``.

:func:`redact` masks all of them, by pattern rather than by knowing the secret, so it works on
text nobody parsed (a driver's message, a traceback). It errs towards masking too much: in a
whitespace-free run, everything from the userinfo's ``:`` to the run's last ``@`` is masked, so
a password holding ``/``, ``?`` or ``@`` (a URL that was not percent-encoded) does not leak.
Standard library only: the CLI's error funnel calls it.
"""

from __future__ import annotations

import re

MASK = "***"

_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*):\S*@")
"""``scheme://user:`` followed by the password, up to the last ``@`` before whitespace."""

_KEY_VALUE = re.compile(
    r"(?P<key>(?:ssl)?password|passwd|pwd)(?P<sep>\s*=\s*|%3D)(?P<value>'(?:[^'\\]|\\.)*'|[^&#\s]*)",
    re.IGNORECASE,
)
"""``password=VALUE`` in a query string, a connection string or an encoded ``options`` value."""


def redact(text: str) -> str:
    """``text`` with every password it may hold replaced by ``***``."""
    if "://" in text:
        text = _USERINFO.sub(lambda match: f"{match['head']}:{MASK}@", text)
    return _KEY_VALUE.sub(lambda match: f"{match['key']}{match['sep']}{MASK}", text)


def holds_password(url: str) -> bool:
    """Whether a URL or connection string carries a password anywhere :func:`redact` would mask."""
    return redact(url) != url
