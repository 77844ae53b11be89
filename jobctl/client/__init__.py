"""The CLI's remote mode: the service interface over the daemon's REST API (httpx lives here only)."""

import sys

# httpx's package imports its own command-line program (httpx._main, with click, rich and
# pygments) whenever those are installed, as they are beside typer: about 45 ms of every
# remote command's start-up for a program jobctl never runs. A None in sys.modules makes that
# import raise ImportError, which httpx catches (it then defines a stub that says to install
# httpx[cli]). setdefault: a process that already loaded the real module keeps it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None is the import system's "absent"

from jobctl.client.remote import RemoteService  # noqa: E402  (after the line above, on purpose)

__all__ = ["RemoteService"]
