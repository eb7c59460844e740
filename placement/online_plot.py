"""Plot regret/t against t for the runs of a comparison (kept for ``idnplan online --plot``; see :mod:`placement.plot`)."""

from __future__ import annotations

import os


def plot_regret(runs: list, path: str | os.PathLike) -> None:
    """One line per run: regret after t slots divided by t (exact hindsight at each point)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        from .errors import MissingDependencyError

        raise MissingDependencyError("matplotlib", "--plot") from None
    from .plot import plot_regret as draw

    draw(runs, path)
