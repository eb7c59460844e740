"""Exhaustive search over every device/server partition of a model graph: the oracle of ``dag-mincut``.

The partitions are the down-sets D of the graph's operators (every
predecessor of a device operator is on the device) whose complement holds the
output, plus D = every operator (all on the device). Listing them one by one
is hopeless on real models (their number grows like the product of the
branch lengths of every block), so this module enumerates them implicitly, by
dynamic programming over the graph's topological order:

- operators are decided one at a time, device or server, a device operator
  only when all its inputs are on the device;
- the state is, for each tensor still to be read (the frontier), whether it
  is on the server, on the device and not yet sent, or on the device and
  already sent, plus whether some operator is on the server yet;
- a server operator reading a device tensor not yet sent pays its transfer
  once; the state keeps the cheapest cost, the partition reaching it and the
  number of partitions reaching it.

Every partition is one path through the states, so the minimum is the
minimum over all of them (exhaustive, with no flow argument) and the counts
add up to the number of partitions. Work is (operators) x 2 x 3^(frontier
width); the shipped profiles have frontiers of a few tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

from placement.instance import Demand, Instance, Model

from .graphcut import cut_costs

SERVER, FRESH, SENT = 0, 1, 2


@dataclass(frozen=True)
class Enumeration:
    """The optimum over every partition and how many partitions there are."""

    cost: float  # per-request objective term (latency, energy and inaccuracy weighted)
    on_device: frozenset[str]
    partitions: int
    max_frontier: int


def enumerate_partitions(inst: Instance, model: Model, demand: Demand, server: str) -> Enumeration:
    """The cheapest device/server partition of ``model``'s graph, by exhaustive DP (module docstring)."""
    g = model.graph
    assert g is not None
    c = cut_costs(inst, model, demand, server)
    names = [op.name for op in g.nodes]
    last_use = {"input": -1, **{n: -1 for n in names}}
    for k, op in enumerate(g.nodes):
        for src in op.inputs:
            last_use[src] = k
    # state: (frontier statuses as a tuple aligned with `live`, any_server) -> (cost, device bitmask, count)
    live: list[str] = ["input"] if last_use["input"] >= 0 else []
    states: dict[tuple, tuple[float, int, int]] = {((FRESH,) * len(live), False): (0.0, 0, 1)}
    widest = len(live)
    n = len(names)
    for k, op in enumerate(g.nodes):
        pos = [live.index(src) for src in op.inputs]
        keep = [i for i, name in enumerate(live) if last_use[name] > k]
        new_live = [live[i] for i in keep] + ([op.name] if last_use[op.name] > k else [])
        nxt: dict[tuple, tuple[float, int, int]] = {}
        for (status, any_server), (cost, mask, count) in states.items():
            # device: every input on the device; the output only when nothing is on the server
            if all(status[p] != SERVER for p in pos) and (k < n - 1 or not any_server):
                st = tuple(status[i] for i in keep) + ((FRESH,) if last_use[op.name] > k else ())
                _add(nxt, (st, any_server), cost + c.device[k], mask | (1 << k), count)
            # server: device inputs not yet sent are sent now, once
            extra, upd = 0.0, list(status)
            for p in set(pos):
                if upd[p] == FRESH:
                    extra += c.per_byte * c.sizes[live[p]]
                    upd[p] = SENT
            st = tuple(upd[i] for i in keep) + ((SERVER,) if last_use[op.name] > k else ())
            final = c.remote_constant if k == n - 1 else 0.0
            _add(nxt, (st, True), cost + c.server[k] + extra + final, mask, count)
        states, live = nxt, new_live
        widest = max(widest, len(live))
    cost, mask, _ = min(states.values(), key=lambda v: v[0])
    total = sum(v[2] for v in states.values())
    const = inst.w_inaccuracy * (1 - model.accuracy)
    return Enumeration(cost + const, frozenset(names[i] for i in range(n) if mask >> i & 1), total, widest)


def _add(states: dict, key: tuple, cost: float, mask: int, count: int) -> None:
    """Merge one partial partition into a state: keep the cheaper, add the counts."""
    old = states.get(key)
    if old is None:
        states[key] = (cost, mask, count)
    else:
        states[key] = (cost, mask, old[2] + count) if cost < old[0] else (old[0], old[1], old[2] + count)
