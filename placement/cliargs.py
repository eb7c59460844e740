"""Checked command-line values: argparse ``type=`` functions and the start-up Ctrl-C guard.

Each type function refuses a value that would make a command meaningless
(a negative time limit, a NaN gap, zero threads) with one line naming the
problem; argparse turns it into ``idnplan CMD: error: argument --flag: ...``
and exit code 2, before any work is done.
"""

from __future__ import annotations

import argparse
import math
import os


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got '{text}'")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None


def positive_seconds(text: str) -> float:
    """A time limit: a finite number of seconds > 0."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got '{text}' (leave the flag out for no limit)")
    return value


def nonneg_number(text: str) -> float:
    """A finite number >= 0 (a relative gap, a Zipf exponent)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got '{text}'")
    return value


def positive_number(text: str) -> float:
    """A finite number > 0."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got '{text}'")
    return value


def utilization(text: str) -> float:
    """A utilization cap in [1e-6, 1]."""
    value = _number(text)
    if not 1e-6 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 1e-06 and 1, got '{text}'")
    return value


def positive_int(text: str, limit: int = 10**9) -> int:
    """An integer in [1, limit]."""
    value = _integer(text)
    if not 1 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must be an integer between 1 and {limit:,}, got '{text}'")
    return value


def seed(text: str) -> int:
    """A random seed: an integer in [0, 2**32 - 1] (what numpy's generators accept)."""
    value = _integer(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer between 0 and {2**32 - 1}, got '{text}'")
    return value


def max_threads() -> int:
    """Most threads a command may ask for: 4 per CPU of this host."""
    return 4 * (os.cpu_count() or 1)


def threads(text: str) -> int:
    """A thread count in [1, :func:`max_threads`]."""
    value = _integer(text)
    if not 1 <= value <= max_threads():
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {max_threads()} (4 x the {os.cpu_count() or 1} CPUs of this host), got '{text}'"
        )
    return value


def method_options(items: list[str] | None) -> dict:
    """``--option KEY=VALUE`` items as a dict; values read as JSON where they parse
    (``5``, ``true``), else kept as text. The method's typed options check them."""
    import json

    from .errors import InputError

    out: dict = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--option expects KEY=VALUE, got '{item}'")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
