"""Figures of instances, plans, fronts and online runs (matplotlib, imported on first use).

- :func:`plot_network`: the network drawn by tier (device at the bottom, cloud
  on top), what each node stores, one demand class's routes, and every link's
  load as a fraction of its bandwidth (the busier direction);
- :func:`plot_cuts`: latency against bandwidth for every cut of a model
  between a head and a tail node (the figure of split-computing papers);
- :func:`plot_front`: a front: scatter (two objectives), scatter matrix
  (three), parallel coordinates (four);
- :func:`plot_regret`: regret / t of online runs.

Each function draws on a new figure, saves it when given a path (PNG, SVG,
PDF by the suffix) and returns the matplotlib ``Figure``. Every figure comes
from the cost model, so axes say "estimated".
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from .kernel import F_FIELDS, OBJECTIVES, transfer_s

if TYPE_CHECKING:
    from .front import Front
    from .instance import Instance
    from .plan import Plan

TIERS = ("device", "access", "edge", "regional", "cloud")
TIER_COLOURS = {"device": "#8dd3c7", "access": "#ffffb3", "edge": "#bebada", "regional": "#fb8072", "cloud": "#80b1d3", None: "#d9d9d9"}
AXIS_LABELS = {o: f"{f} (estimated)" for o, f in zip(OBJECTIVES, F_FIELDS)}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        from .errors import MissingDependencyError

        raise MissingDependencyError("matplotlib", "plots", "pareto") from None
    return plt


def _finish(fig, path: str | os.PathLike | None):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
        _pyplot().close(fig)
    return fig


# -- the network with a plan ------------------------------------------------------------


def tier_layout(instance: Instance) -> dict[str, tuple[float, float]]:
    """Node positions: one row per tier (device lowest), nodes of a row spread evenly."""
    rows: dict[int, list[str]] = {}
    for n in instance.nodes:
        rows.setdefault(TIERS.index(n.tier) if n.tier in TIERS else len(TIERS) // 2, []).append(n.id)
    pos = {}
    for level, ids in rows.items():
        for i, node in enumerate(sorted(ids)):
            pos[node] = ((i + 1) / (len(ids) + 1), float(level))
    return pos


def _link_utilization(instance: Instance, plan: Plan) -> np.ndarray:
    """Per link: the larger utilization of its two directions under the plan (cost kernel)."""
    from .build import usage
    from .kernel import RouteCosts, loads

    chain = [r for r in plan.routes if all(s.layers is not None for s in r.segments)]  # graph routes: not drawn
    costs = RouteCosts.pack(instance, [usage(instance, r.to_route()) for r in chain])
    flow = np.array([instance.demands[r.demand].rate_rps * r.share for r in chain])
    u = loads(instance, costs, flow, "none").link_utilization
    return u.reshape(-1, 2).max(axis=1) if len(u) else u


def plot_network(instance: Instance, plan: Plan | None = None, demand: int | None = 0, path: str | os.PathLike | None = None, *, labels: bool = True):
    """Draw the network by tier, with what ``plan`` stores, class ``demand``'s routes and link loads."""
    import networkx as nx

    plt = _pyplot()
    g = nx.Graph()
    g.add_nodes_from(n.id for n in instance.nodes)
    g.add_edges_from((l.u, l.v) for l in instance.links)
    pos = tier_layout(instance)
    fig, ax = plt.subplots(figsize=(max(6.4, 0.6 * len(instance.nodes) ** 0.8), 4.8))
    width = np.full(len(instance.links), 1.0)
    colour = ["#bbbbbb"] * len(instance.links)
    if plan is not None:
        util = _link_utilization(instance, plan)
        cmap = plt.get_cmap("viridis")
        for i, u in enumerate(util):
            if u > 0:
                width[i] = 1.0 + 5.0 * min(u / max(instance.max_utilization, 1e-12), 1.0)
                colour[i] = cmap(min(u / max(instance.max_utilization, 1e-12), 1.0))
        sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, instance.max_utilization))
        fig.colorbar(sm, ax=ax, label="link utilization (busier direction, estimated)")
    nx.draw_networkx_edges(g, pos, edgelist=[(l.u, l.v) for l in instance.links], width=width.tolist(), edge_color=colour, ax=ax)
    if plan is not None and demand is not None:
        for r in plan.routes:
            if r.demand != demand:
                continue
            hops = _route_hops(instance, r)
            nx.draw_networkx_edges(g, pos, edgelist=hops, width=2.5, edge_color="crimson", style="dashed", ax=ax, alpha=0.4 + 0.6 * r.share)
    tiers = [n.tier for n in instance.nodes]
    nx.draw_networkx_nodes(g, pos, nodelist=[n.id for n in instance.nodes], node_color=[TIER_COLOURS.get(t, "#d9d9d9") for t in tiers], edgecolors="black", node_size=300, ax=ax)
    if labels:
        text = {n.id: n.id for n in instance.nodes}
        if plan is not None:
            for node, models in plan.storage.items():
                if node in text and models:
                    text[node] += "\n" + "\n".join(_stored_label(instance, m, rngs) for m, rngs in models.items())
        nx.draw_networkx_labels(g, pos, labels=text, font_size=7, ax=ax, verticalalignment="top")
    ax.set_yticks(range(len(TIERS)), TIERS)
    ax.tick_params(left=True, labelleft=True)
    ax.set_ylim(-0.8, len(TIERS) - 0.4)
    title = instance.name if plan is None else f"{instance.name}: plan by {plan.method}"
    if plan is not None and demand is not None and demand < len(instance.demands):
        title += f"; routes of class {demand} ({instance.demands[demand].origin}, {instance.demands[demand].task}) dashed"
    ax.set_title(title, fontsize=9)
    return _finish(fig, path)


def _stored_label(instance: Instance, model: str, ranges) -> str:
    n = instance.models[model].n_layers if model in instance.models else None
    covered = sum(int(b) - int(a) + 1 for a, b in ranges)
    return model if covered == n else f"{model}[{','.join(f'{a}-{b}' for a, b in ranges)}]"


def _route_hops(instance: Instance, route) -> list[tuple[str, str]]:
    """Links a route's data crosses: origin to each computing node in turn."""
    origin = instance.demands[route.demand].origin
    nodes = [origin, *(s.node for s in route.segments)]
    hops = []
    for a, b in zip(nodes, nodes[1:]):
        path = instance.path(a, b)
        hops += list(zip(path, path[1:]))
    return hops


# -- cuts against bandwidth --------------------------------------------------------------


def cut_latencies(instance: Instance, model: str, head: str, tail: str, bandwidths: np.ndarray, propagation_s: float = 0.0) -> np.ndarray:
    """(cuts, bandwidths) latency of computing layers ``< c`` at ``head`` and the rest at ``tail``.

    Cut ``c`` sends the model input (c = 0) or layer ``c-1``'s output over one
    link of the given bandwidth (bytes/s) and ``propagation_s``; the result
    comes back from ``tail`` when the tail computes anything. Cut ``n`` runs
    everything at ``head``.
    """
    m = instance.models[model]
    h = m.cum_latency(instance.node[head].device)
    t = m.cum_latency(instance.node[tail].device)
    n = m.n_layers
    send = np.concatenate([[m.input_bytes], m.out_bytes])
    bw = np.asarray(bandwidths, dtype=float)[None, :]
    c = np.arange(n + 1)[:, None]
    compute = h[c] + (t[n] - t[c])
    moved = np.where(c < n, transfer_s(send[c], 1.0 / bw, propagation_s) + transfer_s(float(m.out_bytes[-1]), 1.0 / bw, propagation_s), 0.0)
    return compute + moved


def plot_cuts(instance: Instance, model: str, head: str, tail: str, bandwidths=None, path: str | os.PathLike | None = None, *, propagation_s: float = 0.0):
    """Latency against bandwidth for every cut of ``model`` between ``head`` and ``tail`` (log-log)."""
    plt = _pyplot()
    bw = np.logspace(3, 9, 61) if bandwidths is None else np.asarray(bandwidths, dtype=float)
    lat = cut_latencies(instance, model, head, tail, bw, propagation_s)
    n = lat.shape[0] - 1
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    best = lat.argmin(axis=0)
    for c in range(n + 1):
        label = None
        if c == 0:
            label = f"cut 0: all at {tail}"
        elif c == n:
            label = f"cut {n}: all at {head}"
        elif np.any(best == c):
            label = f"cut {c} (after {instance.models[model].layers[c - 1].name})"
        ax.plot(bw, lat[c], lw=1.6 if label else 0.6, color=None if label else "#bbbbbb", label=label)
    ax.plot(bw, lat.min(axis=0), color="black", lw=2.2, ls=":", label="best cut")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("bandwidth_bytes_per_s")
    ax.set_ylabel("latency_s (estimated)")
    ax.set_title(f"{model}: {head} -> {tail}, every cut", fontsize=9)
    ax.legend(fontsize=7)
    return _finish(fig, path)


# -- fronts and online runs -----------------------------------------------------------------


def plot_front(front: Front | list[Front], path: str | os.PathLike | None = None, *, highlight: int | None = None):
    """A front (or several over the same objectives): scatter, scatter matrix or parallel coordinates."""
    plt = _pyplot()
    fronts = front if isinstance(front, list) else [front]
    objs = fronts[0].objectives
    p = len(objs)
    if p == 2:
        fig, ax = plt.subplots(figsize=(6.0, 4.4))
        for f in fronts:
            F = f.F
            ax.scatter(F[:, 0], F[:, 1], label=f"{f.method} ({len(F)})", s=22)
            if highlight is not None and len(fronts) == 1:
                ax.scatter(*F[highlight], s=120, facecolors="none", edgecolors="crimson", lw=2)
        ax.set_xlabel(AXIS_LABELS[objs[0]])
        ax.set_ylabel(AXIS_LABELS[objs[1]])
        ax.legend(fontsize=8)
    elif p == 3:
        fig, axes = plt.subplots(3, 3, figsize=(7.5, 7.0))
        for i in range(3):
            for j in range(3):
                ax = axes[i, j]
                for f in fronts:
                    F = f.F
                    if i == j:
                        ax.hist(F[:, i], bins=10, alpha=0.6)
                    else:
                        ax.scatter(F[:, j], F[:, i], s=10, label=f.method)
                        if highlight is not None and len(fronts) == 1:
                            ax.scatter(F[highlight, j], F[highlight, i], s=80, facecolors="none", edgecolors="crimson", lw=1.5)
                if i == 2:
                    ax.set_xlabel(F_FIELDS[OBJECTIVES.index(objs[j])], fontsize=7)
                if j == 0:
                    ax.set_ylabel(F_FIELDS[OBJECTIVES.index(objs[i])], fontsize=7)
                ax.tick_params(labelsize=6)
        axes[0, 1].legend(fontsize=6)
        fig.suptitle("front (estimated figures)", fontsize=9)
    else:
        fig, ax = plt.subplots(figsize=(7.0, 4.4))
        allF = np.vstack([f.F for f in fronts])
        lo, hi = allF.min(axis=0), allF.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        for k, f in enumerate(fronts):
            G = (f.F - lo) / span
            for r, row in enumerate(G):
                ax.plot(range(p), row, color=f"C{k}", alpha=0.5, lw=1, label=f.method if r == 0 else None)
            if highlight is not None and len(fronts) == 1:
                ax.plot(range(p), G[highlight], color="crimson", lw=3)
        ax.set_xticks(range(p), [f"{F_FIELDS[OBJECTIVES.index(o)]}\n[{lo[i]:.3g}, {hi[i]:.3g}]" for i, o in enumerate(objs)], fontsize=7)
        ax.set_ylabel("normalised to the range shown (estimated)")
        ax.legend(fontsize=8)
    title = ", ".join(f"{f.method}" for f in fronts)
    fig.axes[0].set_title(f"{fronts[0].instance}: {title}", fontsize=9) if p != 3 else None
    return _finish(fig, path)


def plot_regret(runs: list, path: str | os.PathLike | None = None):
    """Regret / t against t for online runs (one line per policy; exact hindsight at each point)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for r in runs:
        pts = r.summary.regret_curve
        if pts:
            ax.plot([q.t_slots for q in pts], [q.regret_per_slot for q in pts], marker="o", label=r.policy)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("t (slots)")
    ax.set_ylabel("regret / t (objective units per slot, estimated)")
    ax.set_title(f"{runs[0].instance}: {runs[0].trace}" if runs else "")
    ax.legend()
    return _finish(fig, path)


__all__ = ["cut_latencies", "plot_cuts", "plot_front", "plot_network", "plot_regret", "tier_layout"]
