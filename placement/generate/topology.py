"""Network generators: tiered trees and backbones (Waxman, Barabasi-Albert, files).

Everything random draws from one ``numpy.random.Generator`` seeded by the
config, in a fixed order, so the same seed gives the same network.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import numpy as np

from ..errors import InputError, Problem
from ..schema import LinkSpec, NodeSpec
from .config import Backbone, Level, Root
from .links import link_class

#: Signal speed in fibre, km/s (about 2/3 of c).
FIBRE_KM_PER_S = 2.0e5
#: Per-hop equipment latency added to propagation on backbone links, s.
HOP_OVERHEAD_S = 5.0e-4


def _link(u: str, v: str, cls_name: str, latency_s: float | None = None) -> LinkSpec:
    cls = link_class(cls_name)
    return LinkSpec(
        u=u,
        v=v,
        bandwidth_bytes_per_s=cls.bandwidth_bytes_per_s,
        latency_s=cls.latency_s if latency_s is None else latency_s,
        energy_j_per_byte=cls.energy_j_per_byte,
        kind=cls.name,
    )


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[0] if len(options) == 1 else options[int(rng.integers(len(options)))]


def _level_link(level: Level, device: str) -> str:
    if isinstance(level.link, str):
        return level.link
    return level.link.get(device, level.link.get("*", next(iter(level.link.values()))))


class Builder:
    """Accumulates nodes and links with per-tier counters for readable ids."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.nodes: list[NodeSpec] = []
        self.links: list[LinkSpec] = []
        self.count: dict[str, int] = {}

    def node(self, tier: str, devices: list[str], memory_bytes: float | None = None, unbounded: bool = False, ident: str | None = None) -> str:
        k = self.count.get(tier, 0)
        self.count[tier] = k + 1
        ident = ident or f"{tier}{k}"
        device = _pick(self.rng, devices)
        kwargs = {}
        if unbounded:
            kwargs["memory_bytes"] = None
        elif memory_bytes is not None:
            kwargs["memory_bytes"] = memory_bytes
        self.nodes.append(NodeSpec(id=ident, device=device, tier=tier, **kwargs))  # type: ignore[arg-type]
        return ident

    def device_of(self, ident: str) -> str:
        return next(n.device for n in self.nodes if n.id == ident)

    def tree(self, parent: str, levels: list[Level]) -> None:
        """Hang ``levels`` below ``parent``, breadth first (ids numbered level by level)."""
        frontier = [parent]
        for level in levels:
            nxt = []
            for p in frontier:
                for _ in range(level.fanout):
                    child = self.node(level.tier, level.devices, level.memory_bytes)
                    self.links.append(_link(child, p, _level_link(level, self.device_of(child))))
                    nxt.append(child)
            frontier = nxt


def tiered(rng: np.random.Generator, root: Root, levels: list[Level]) -> Builder:
    """A tree: one root (cloud) and ``levels`` below it."""
    b = Builder(rng)
    top = b.node(root.tier, root.devices, unbounded=root.unbounded_memory)
    b.tree(top, levels)
    return b


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return s or "node"


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def read_topology(path: str | Path) -> tuple[nx.Graph, list[str]]:
    """Read a GML or GraphML topology (e.g. an Internet Topology Zoo file).

    Returns a simple undirected graph whose nodes carry ``name`` and, when the
    file has them, ``lat``/``lon`` (degrees), plus warnings about what was
    dropped (self-loops, parallel edges, components other than the largest).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".gml":
            raw = nx.read_gml(path, label="id")
        elif suffix in (".graphml", ".xml"):
            raw = nx.read_graphml(path)
        else:
            raise InputError(Problem(str(path), "", "unknown topology format; use .gml or .graphml"))
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(Problem(str(path), "", "no such file")) from None
    except Exception as exc:  # networkx raises many kinds on malformed files
        raise InputError(Problem(str(path), "", f"cannot read the topology: {exc}")) from None
    warnings = []
    g = nx.Graph()
    used: set[str] = set()
    for n, data in raw.nodes(data=True):
        base = _slug(data.get("label", n))
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}-{k}"
        used.add(name)
        attrs = {"name": name}
        lat = data.get("Latitude", data.get("latitude", data.get("lat")))
        lon = data.get("Longitude", data.get("longitude", data.get("lon")))
        if lat is not None and lon is not None:
            attrs["lat"], attrs["lon"] = float(lat), float(lon)
        g.add_node(n, **attrs)
    loops = parallel = 0
    for u, v in raw.edges():
        if u == v:
            loops += 1
        elif g.has_edge(u, v):
            parallel += 1
        else:
            g.add_edge(u, v)
    if loops:
        warnings.append(f"{path}: dropped {loops} self-loop(s)")
    if parallel:
        warnings.append(f"{path}: merged {parallel} parallel edge(s)")
    if g.number_of_nodes() == 0:
        raise InputError(Problem(str(path), "", "the topology has no nodes"))
    comps = sorted(nx.connected_components(g), key=lambda c: (-len(c), min(str(x) for x in c)))
    if len(comps) > 1:
        dropped = sum(len(c) for c in comps[1:])
        warnings.append(f"{path}: kept the largest connected component ({len(comps[0])} nodes), dropped {dropped} node(s)")
        g = g.subgraph(comps[0]).copy()
    return g, warnings


def _connect(g: nx.Graph, pos: dict) -> None:
    """Join components of a random graph by their closest node pairs (deterministic)."""
    comps = sorted(nx.connected_components(g), key=lambda c: min(c))
    while len(comps) > 1:
        a, b = comps[0], comps[1]
        pairs = [
            (math.dist(pos[u], pos[v]) if pos else 0.0, u, v)
            for u in sorted(a)
            for v in sorted(b)
        ]
        _, u, v = min(pairs)
        g.add_edge(u, v)
        comps = sorted(nx.connected_components(g), key=lambda c: min(c))


def backbone(rng: np.random.Generator, cfg: Backbone, root: Root, levels: list[Level], base_dir: Path) -> tuple[Builder, list[str]]:
    """A backbone graph, a cloud attached to its most central node, trees below each node."""
    warnings: list[str] = []
    seed = int(rng.integers(2**31 - 1))
    if cfg.kind == "waxman":
        g = nx.waxman_graph(cfg.nodes, beta=cfg.beta, alpha=cfg.alpha, seed=seed)
        pos = {n: tuple(g.nodes[n]["pos"]) for n in g.nodes}
        _connect(g, pos)
        names = {n: f"bb{n}" for n in g.nodes}

        def latency(u, v) -> float:
            return math.dist(pos[u], pos[v]) * cfg.km_per_unit / FIBRE_KM_PER_S + HOP_OVERHEAD_S
    elif cfg.kind == "barabasi-albert":
        g = nx.barabasi_albert_graph(cfg.nodes, min(cfg.m, cfg.nodes - 1), seed=seed)
        names = {n: f"bb{n}" for n in g.nodes}
        base = link_class(cfg.link).latency_s
        lat_of = {tuple(sorted(e)): base * float(rng.uniform(0.5, 1.5)) for e in sorted(g.edges())}

        def latency(u, v) -> float:
            return lat_of[tuple(sorted((u, v)))]
    else:
        path = Path(cfg.file)  # type: ignore[arg-type]
        full = path if path.is_absolute() else base_dir / path
        g, warnings = read_topology(full)
        names = {n: f"bb-{g.nodes[n]['name']}" for n in g.nodes}
        default = link_class(cfg.link).latency_s

        def latency(u, v) -> float:
            a, b = g.nodes[u], g.nodes[v]
            if "lat" in a and "lat" in b:
                return _haversine_km((a["lat"], a["lon"]), (b["lat"], b["lon"])) / FIBRE_KM_PER_S + HOP_OVERHEAD_S
            return default

    b = Builder(rng)
    order = sorted(g.nodes, key=lambda n: names[n])
    for n in order:
        b.node(cfg.tier, cfg.devices, ident=names[n])
    for u, v in sorted(g.edges(), key=lambda e: tuple(sorted((names[e[0]], names[e[1]])))):
        b.links.append(_link(names[u], names[v], cfg.link, latency(u, v)))
    closeness = nx.closeness_centrality(g)
    hub = min(order, key=lambda n: (-round(closeness[n], 12), names[n]))
    cloud = b.node(root.tier, root.devices, unbounded=root.unbounded_memory)
    b.links.append(_link(cloud, names[hub], cfg.cloud_link))
    for n in order:
        b.tree(names[n], levels)
    return b, warnings
