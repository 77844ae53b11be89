"""The ``jobctl`` command's first module: a Ctrl-C while jobctl starts ends it quietly.

Python turns SIGINT into ``KeyboardInterrupt``, and one that landed while the command's modules
were being imported (the first 0.1-0.2 s) printed a traceback of the import machinery. While
they are imported SIGINT keeps its default action, ending the process as it ends ``cat`` (the
shell sees 130); then Python's handler is back for the commands, which cancel runs and stop
prunes cleanly on Ctrl-C. A SIGINT the process was started ignoring (a job started with ``&``
by a shell without job control) stays ignored.
"""

from __future__ import annotations

# ``_signal``, the C module under ``signal``: importing ``signal`` itself builds its enums (about
# a millisecond), and a Ctrl-C in that millisecond still printed the traceback this module is for.
import _signal


def run() -> None:
    """Import the command line with SIGINT's default action, then run it."""
    interrupts_raise = _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler
    if interrupts_raise:
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    from jobctl.cli.main import run as run_command

    if interrupts_raise:
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    run_command()
