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
It runs on every daemon log line, some of which quote a job's stderr, so it must stay linear
in the length of its input whatever that holds: no pattern may backtrack over a long run.
Standard library only: the CLI's error funnel calls it.
"""

from __future__ import annotations

import re

MASK = "***"

_RUN = re.compile(r"\S+")
"""A whitespace-free run: a URL's userinfo never spans whitespace."""

_USERINFO_START = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:")
"""``scheme://user:``, the password following. The look-behind makes each run of scheme-like
characters a candidate once, not at every position, which keeps the search linear."""

_KEY_VALUE = re.compile(
    r"(?P<key>(?:ssl)?password|passwd|pwd)(?P<sep>\s*=\s*|%3D)(?P<value>'(?:[^'\\]|\\.){0,1000}'|[^&#\s]*)",
    re.IGNORECASE,
)
"""``password=VALUE`` in a query string, a connection string or an encoded ``options`` value
(a quoted value is looked for over at most 1,000 characters, so text full of unclosed quotes
stays linear)."""


def redact(text: str) -> str:
    """``text`` with every password it may hold replaced by ``***``, in time linear in its length."""
    if "://" in text and "@" in text:
        text = _RUN.sub(_mask_userinfo, text)
    if not _may_hold_key(text):
        return text
    return _KEY_VALUE.sub(_mask_value, text)


def _mask_value(match: re.Match[str]) -> str:
    """``key=***``, keeping the quote that closes a quoted string the unquoted value ended
    (``'dbname=x password=SECRET'``): masked with it, the text around could not be pasted back."""
    value = match["value"]
    closing = "'" if value.endswith("'") and not value.startswith("'") else ""
    return f"{match['key']}{match['sep']}{MASK}{closing}"


def _may_hold_key(text: str) -> bool:
    """Whether ``text`` may hold a key of :data:`_KEY_VALUE` (each holds ``pass`` or ``pwd``).

    Case-folded, as the pattern ignores case (the long s folds to ``s``): a line without either is
    returned as it is without the pattern's scan, the costlier part of redacting a daemon's log
    line (one per finished run)."""
    folded = text.casefold()
    return "pass" in folded or "pwd" in folded


def _mask_userinfo(run: re.Match[str]) -> str:
    """Mask from the first ``scheme://user:`` to the run's last ``@`` (a password may hold ``@``)."""
    token = run.group()
    if "://" not in token:
        return token
    start = _USERINFO_START.search(token)
    if start is None:
        return token
    at = token.rfind("@")
    return token if at < start.end() else f"{token[: start.end()]}{MASK}{token[at:]}"


def holds_password(url: str) -> bool:
    """Whether a URL or connection string carries a password anywhere :func:`redact` would mask."""
    return redact(url) != url
