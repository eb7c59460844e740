"""Ctrl-C from the first instruction of the ``idnplan`` command on: ``interrupted``, exit 130.

``placement/__init__.py`` imports this module first (it needs only the
standard library's ``os``, ``signal``, ``sys`` and ``threading``, all loaded
by then), so the guard is in place before the slow imports (numpy, pydantic,
networkx) begin. Only the CLI process is guarded: importing :mod:`placement`
in a notebook or a test leaves its signal handling alone.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def _startup_interrupt(signum, frame) -> None:  # pragma: no cover - runs in a subprocess
    os.write(2, b"interrupted\n")
    os._exit(130)


def run_as_cli() -> bool:
    """Whether this process is the ``idnplan`` command (console script or ``python -m placement.cli``)."""
    argv0 = sys.argv[0] if sys.argv else ""
    name = os.path.basename(argv0).lower()
    return argv0 == "-m" or name in ("idnplan", "idnplan.exe", "idnplan-script.py") or (
        name == "cli.py" and os.path.basename(os.path.dirname(argv0)) == "placement"
    )


def guard_interrupts() -> None:
    """In the CLI process only, make Ctrl-C print ``interrupted`` and exit 130 at once
    (no traceback) until :func:`release_interrupts`: start-up imports take a
    moment, and a library import must not change a notebook's signal handling."""
    if run_as_cli() and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _startup_interrupt)


def release_interrupts() -> None:
    """Back to ``KeyboardInterrupt`` (which commands catch to clean up, then exit 130)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is _startup_interrupt:
        signal.signal(signal.SIGINT, signal.default_int_handler)


guard_interrupts()  # on import: placement/__init__.py imports this module before anything else
