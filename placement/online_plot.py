"""Plot regret/t against t for the runs of a comparison (matplotlib, PNG or SVG)."""

from __future__ import annotations

import os


def plot_regret(runs: list, path: str | os.PathLike) -> None:
    """One line per run: regret after t slots divided by t (exact hindsight at each point)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from .errors import MissingDependencyError

        raise MissingDependencyError("matplotlib", "--plot") from None
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for r in runs:
        pts = r.summary.regret_curve
        if pts:
            ax.plot([p.t_slots for p in pts], [p.regret_per_slot for p in pts], marker="o", label=r.policy)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("t (slots)")
    ax.set_ylabel("regret / t (objective units per slot, estimated)")
    ax.set_title(f"{runs[0].instance}: {runs[0].trace}" if runs else "")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
