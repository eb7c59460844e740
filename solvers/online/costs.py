"""The static cost table of the online setting, built once per instance.

In the online setting whole models are stored and a request of an (origin,
task) pair is served by the best stored model along the path from its origin
toward its *repository* (the node that stores every model). Every candidate is
an *option*: a (pair, node on the path, model) triple whose per-request cost is
that of the whole-model route with one segment at that node
(``placement.routes.route_figures``), i.e.

    w_latency * latency + w_inaccuracy * (1 - accuracy) + w_energy * energy.

Options at the repository are always available; the others need their *item*
(node, model) stored. The table keeps, per option, the compute time, the bytes
and the link directions it crosses, so that a resource trace (a node's speed
factor divides its compute time, a link direction's factor multiplies its
bandwidth) rescales every cost with one sparse product: :func:`option_costs`
is the one place where costs are computed. Paths and profiles are read here
only, never per slot.

Repository rule: the node of tier ``cloud`` nearest the origin (path latency,
ties by id); without a reachable cloud-tier node, the nearest reachable node
with unbounded memory; without either the instance is refused (exit 2).
Several demand classes with the same (origin, task): the pair takes the
highest accuracy floor among them (the strictest class decides).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from placement.errors import InputError
from placement.instance import Instance


@dataclass(frozen=True, eq=False)
class OnlineTable:
    """Topology apart from demand: items, options and their cost ingredients.

    Attributes
    ----------
    pairs : tuple of (str, str)
        (origin, task) pairs, in the order of the instance's demand classes.
    repository : tuple of str
        Repository node of each pair.
    min_accuracy : numpy.ndarray
        Accuracy floor of each pair.
    item_node, item_model : numpy.ndarray
        For item k: index into ``nodes`` (cache nodes) and into ``model_ids``.
    item_bytes : numpy.ndarray
        Parameter bytes of item k's model.
    nodes : tuple of str
        Nodes that hold at least one item; ``capacity_bytes`` their memory.
    opt_pair, opt_item : numpy.ndarray
        Pair and item of every option; item ``-1`` is a repository option.
    latency_source : str
        'measured', 'estimated', 'given' or 'mixed': where compute times come from.
    """

    instance: Instance
    pairs: tuple[tuple[str, str], ...]
    repository: tuple[str, ...]
    min_accuracy: np.ndarray
    model_ids: tuple[str, ...]
    model_bytes: np.ndarray
    nodes: tuple[str, ...]
    capacity_bytes: np.ndarray
    item_node: np.ndarray
    item_model: np.ndarray
    item_bytes: np.ndarray
    opt_pair: np.ndarray
    opt_item: np.ndarray
    opt_node: np.ndarray  # instance node index (for speed factors)
    opt_compute_s: np.ndarray
    opt_power_w: np.ndarray
    opt_accuracy: np.ndarray
    opt_in_bytes: np.ndarray
    opt_out_bytes: np.ndarray
    opt_prop_s: np.ndarray
    opt_transfer_j: np.ndarray
    up: csr_matrix  # option x link direction: directions crossed by the input
    down: csr_matrix  # option x link direction: directions crossed by the result
    latency_source: str

    @property
    def n_items(self) -> int:
        return len(self.item_node)

    @property
    def n_pairs(self) -> int:
        return len(self.pairs)

    def item_label(self, k: int) -> str:
        return f"{self.model_ids[self.item_model[k]]}@{self.nodes[self.item_node[k]]}"


def repository_of(instance: Instance, origin: str) -> str:
    """The repository node of an origin (see the module docstring)."""
    reach = instance.network.reachable(origin)
    clouds = [n for n in reach if instance.node[n].tier == "cloud"]
    if not clouds:
        clouds = [n for n in reach if math.isinf(instance.node[n].memory_bytes)]
    if not clouds:
        raise InputError(f"{instance.source or instance.name}: origin '{origin}' reaches no node of tier 'cloud' and no node with unbounded memory (memory_bytes: null) to serve as its repository in the online setting")
    return min(clouds, key=lambda n: (reach[n], n))


def instance_pairs(instance: Instance) -> list[tuple[str, str]]:
    """Distinct (origin, task) pairs of the demand classes, in file order."""
    return list(dict.fromkeys((d.origin, d.task) for d in instance.demands))


def build_table(instance: Instance) -> OnlineTable:
    """Build the cost table of an instance (paths and profiles read once)."""
    pairs = instance_pairs(instance)
    floor: dict[tuple[str, str], float] = {}
    for d in instance.demands:
        floor[(d.origin, d.task)] = max(floor.get((d.origin, d.task), 0.0), d.min_accuracy)
    model_ids = tuple(instance.models)
    midx = {m: i for i, m in enumerate(model_ids)}
    model_bytes = np.array([instance.models[m].total_param_bytes for m in model_ids])
    net = instance.network
    compute_cache: dict[tuple[str, str], float] = {}
    sources: set[str] = set()
    items: dict[tuple[str, int], int] = {}
    cols: dict[str, list] = {k: [] for k in ("pair", "item", "node", "compute", "power", "acc", "inb", "outb", "prop", "tj")}
    up_rows: list[int] = []
    up_cols: list[int] = []
    repos = []
    for p, (origin, task) in enumerate(pairs):
        repo = repository_of(instance, origin)
        repos.append(repo)
        models = [instance.models[m] for m in instance.tasks.get(task, []) if instance.models[m].accuracy >= floor[(origin, task)] - 1e-12]
        if not models:
            raise InputError(f"{instance.source or instance.name}: no model of task '{task}' meets the accuracy floor {floor[(origin, task)]:g} of origin '{origin}'")
        path = instance.path(origin, repo)
        hops = net.directions(np.array([net.pos[a] for a in path[:-1]]), np.array([net.pos[b] for b in path[1:]])) if len(path) > 1 else np.zeros(0, dtype=np.int64)
        cum_prop = np.concatenate([[0.0], np.cumsum(net.dir_latency[hops])]) if len(hops) else np.zeros(1)
        cum_epb = np.concatenate([[0.0], np.cumsum(net.dir_energy[hops])]) if len(hops) else np.zeros(1)
        for i, v in enumerate(path):
            node = instance.node[v]
            at_repo = v == repo
            for m in models:
                if not at_repo and m.total_param_bytes > node.memory_bytes:
                    continue
                key = (node.device.name, m.id)
                if key not in compute_cache:
                    compute_cache[key] = float(m.cum_latency(node.device)[-1])
                    sources.update(m.latency_sources(node.device))
                if at_repo:
                    k = -1
                else:
                    k = items.setdefault((v, midx[m.id]), len(items))
                o = len(cols["pair"])
                out_b = float(m.out_bytes[-1])
                for name, val in (("pair", p), ("item", k), ("node", node.index), ("compute", compute_cache[key]), ("power", node.device.active_power_w), ("acc", m.accuracy), ("inb", m.input_bytes), ("outb", out_b), ("prop", 2.0 * cum_prop[i]), ("tj", (m.input_bytes + out_b) * cum_epb[i])):
                    cols[name].append(val)
                up_rows.extend([o] * i)
                up_cols.extend(hops[:i].tolist())
    n_opt = len(cols["pair"])
    n_dir = 2 * len(net.links)
    up = csr_matrix((np.ones(len(up_rows)), (up_rows, up_cols)), shape=(n_opt, n_dir))
    # the result returns over the same hops, each in the other direction (u->v is 2i, v->u is 2i+1)
    down = csr_matrix((np.ones(len(up_rows)), (up_rows, np.asarray(up_cols, dtype=np.int64) ^ 1)), shape=(n_opt, n_dir))
    cache_nodes = sorted({v for v, _ in items}, key=lambda v: instance.node[v].index)
    nidx = {v: i for i, v in enumerate(cache_nodes)}
    keys = sorted(items, key=items.get)  # type: ignore[arg-type]
    item_node = np.array([nidx[v] for v, _ in keys], dtype=np.int64)
    item_model = np.array([m for _, m in keys], dtype=np.int64)
    src = sources.pop() if len(sources) == 1 else ("mixed" if sources else "estimated")
    return OnlineTable(
        instance=instance,
        pairs=tuple(pairs),
        repository=tuple(repos),
        min_accuracy=np.array([floor[p] for p in pairs]),
        model_ids=model_ids,
        model_bytes=model_bytes,
        nodes=tuple(cache_nodes),
        capacity_bytes=np.array([instance.node[v].memory_bytes for v in cache_nodes], dtype=float),
        item_node=item_node,
        item_model=item_model,
        item_bytes=model_bytes[item_model] if len(item_model) else np.zeros(0),
        opt_pair=np.array(cols["pair"], dtype=np.int64),
        opt_item=np.array(cols["item"], dtype=np.int64),
        opt_node=np.array(cols["node"], dtype=np.int64),
        opt_compute_s=np.array(cols["compute"]),
        opt_power_w=np.array(cols["power"]),
        opt_accuracy=np.array(cols["acc"]),
        opt_in_bytes=np.array(cols["inb"]),
        opt_out_bytes=np.array(cols["outb"]),
        opt_prop_s=np.array(cols["prop"]),
        opt_transfer_j=np.array(cols["tj"]),
        up=up,
        down=down,
        latency_source=src,
    )


def option_figures(table: OnlineTable, node_speed: np.ndarray | None = None, dir_factor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-request latency (s) and energy (J) of every option under resource factors.

    ``node_speed`` (one per instance node) divides compute times;
    ``dir_factor`` (one per link direction, ``2 * link + 0`` for u->v and
    ``+ 1`` for v->u) multiplies bandwidths. ``None`` means nominal.
    """
    net = table.instance.network
    compute = table.opt_compute_s if node_speed is None else table.opt_compute_s / node_speed[table.opt_node]
    inv_bw = 1.0 / (net.dir_bandwidth if dir_factor is None else net.dir_bandwidth * dir_factor)
    transfer = table.opt_in_bytes * (table.up @ inv_bw) + table.opt_out_bytes * (table.down @ inv_bw) + table.opt_prop_s
    return compute + transfer, compute * table.opt_power_w + table.opt_transfer_j


def option_costs(table: OnlineTable, node_speed: np.ndarray | None = None, dir_factor: np.ndarray | None = None) -> np.ndarray:
    """Per-request cost (objective units) of every option: the one cost computation of the online setting."""
    inst = table.instance
    latency, energy = option_figures(table, node_speed, dir_factor)
    return inst.w_latency * latency + inst.w_inaccuracy * (1.0 - table.opt_accuracy) + inst.w_energy * energy
