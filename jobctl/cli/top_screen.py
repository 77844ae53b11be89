"""The live screen of ``jobctl top``, drawn with the standard library's ``curses``.

One loop: read the overview every ``interval`` seconds, draw it cut to the window, and wait for
keys in short slices so ``q`` answers at once and a resize redraws. A failed read (the daemon
restarting, the store locked) keeps the last picture and shows the error on the bottom line
rather than ending the view; the next refresh tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from jobctl.cli.terminal import printable
from jobctl.cli.top_view import overview_lines
from jobctl.errors import JobctlError
from jobctl.wire.responses import Overview

KEY_WAIT_MS = 100
"""How long one wait for a key lasts: the view answers ``q`` and resizes within it."""

QUIT_KEYS = frozenset({ord("q"), ord("Q")})


def run_live(fetch: Callable[[], Overview], *, interval: float, first: Overview) -> None:
    """Show the view until ``q`` (or Ctrl-C); the terminal is restored however it ends."""
    import curses

    try:
        curses.wrapper(_loop, fetch, interval, first)
    except KeyboardInterrupt:
        return


def _loop(screen: Any, fetch: Callable[[], Overview], interval: float, first: Overview) -> None:
    import curses

    try:
        curses.curs_set(0)
    except curses.error:  # a terminal that cannot hide the cursor
        pass
    screen.timeout(KEY_WAIT_MS)
    lines, error = overview_lines(first), None
    next_read = time.monotonic() + interval
    _draw(screen, lines, error, interval)
    while True:
        key = screen.getch()
        if key in QUIT_KEYS:
            return
        if time.monotonic() >= next_read:
            next_read = time.monotonic() + interval
            try:
                lines, error = overview_lines(fetch()), None
            except JobctlError as exc:
                error = exc.message
            _draw(screen, lines, error, interval)
        elif key == curses.KEY_RESIZE:
            _draw(screen, lines, error, interval)


def _draw(screen: Any, lines: list[str], error: str | None, interval: float) -> None:
    import curses

    screen.erase()
    height, width = screen.getmaxyx()
    for row, text in enumerate(lines[: max(0, height - 1)]):
        _put(screen, row, text, width, curses.A_BOLD if text.isupper() else curses.A_NORMAL)
    footer = f"error: {printable(error)} (retrying)" if error else f"refreshes every {interval:g}s  q: quit"
    _put(screen, height - 1, footer, width, curses.A_REVERSE)
    screen.refresh()


def _put(screen: Any, row: int, text: str, width: int, attributes: int) -> None:
    import curses

    try:
        screen.addnstr(row, 0, text, max(0, width - 1), attributes)
    except curses.error:  # the bottom-right cell, or a window smaller than a line
        pass
