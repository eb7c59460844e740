"""``two-tier``: Neurosurgeon-style best single cut between a device and one server.

For each demand class (largest rate first, sharing capacity like ``greedy``),
every model meeting the accuracy floor is cut at every position c = 0..n:
layers before the cut run on the origin (the device), the rest on the server,
the cut tensor crosses the path between them and the result comes back (c = n:
all on the device; c = 0: the input is sent and everything runs on the server).
The scan is exhaustive, so within this family the choice is exact. The server
is the option ``server=NODE``, by default the nearest node of tier ``edge``
(else ``cloud``). On a single class whose origin reaches no other node than
the server, the family is the whole route space and the plan is optimal.
"""

from __future__ import annotations

import time

import numpy as np

from placement.build import RouteChoice, build_plan
from placement.errors import InfeasibleError
from placement.instance import Demand, Instance
from placement.kernel import SOLVER_RTOL, compute_j, request_cost, transfer_j, transfer_s, within
from placement.plan import Plan, PlanStatus, Termination
from placement.routes import Route, Segment

from .capacity import Capacity
from .columns import column_from_route
from .registry import MethodError, Option, SolveOptions, register


def default_server(instance: Instance, origin: str) -> str | None:
    for tier in ("edge", "cloud"):
        node = instance.nearest_of_tier(origin, tier)
        if node is not None and node != origin:
            return node
    return None


def cut_scan(instance: Instance, demand: Demand, server: str) -> list[RouteChoice]:
    """Every device/server cut of every eligible model (share 1, with its cost, latency and energy), cheapest first.

    Only SLO, accuracy and per-segment memory fits are applied here.
    """
    origin = instance.node[demand.origin]
    srv = instance.node[server]
    path = instance.path(demand.origin, server)
    pa = instance.network.path_arrays(path)
    end = len(path) - 1
    inv, lat, en = pa.cum_inv_bw[end], pa.cum_latency[end], pa.cum_energy[end]
    out = []
    for model in instance.models_for(demand):
        if model.accuracy < demand.min_accuracy - 1e-12:
            continue
        n = model.n_layers
        cut = np.arange(n + 1)
        send = np.concatenate([[model.input_bytes], model.out_bytes[:-1], [0.0]])  # crosses at cut c < n
        cd, cs = model.cum_latency(origin.device), model.cum_latency(srv.device)
        t_dev, t_srv = cd[cut], cs[n] - cs[cut]
        remote = cut < n
        r = float(model.out_bytes[-1])
        latency = t_dev + t_srv + np.where(remote, transfer_s(send, inv, lat) + transfer_s(r, inv, lat), 0.0)
        energy = compute_j(t_dev, origin.device.active_power_w) + compute_j(t_srv, srv.device.active_power_w) + np.where(remote, transfer_j(send + r, en), 0.0)
        cost = request_cost(instance.weights, latency, model.accuracy, energy)
        p = model.cum_param_bytes
        ok = within(latency, demand.max_latency_s, SOLVER_RTOL)
        ok &= within(p[cut], origin.memory_bytes, SOLVER_RTOL)
        ok &= within(p[n] - p[cut], srv.memory_bytes, SOLVER_RTOL)
        for c in np.flatnonzero(ok):
            segs = []
            if c > 0:
                segs.append(Segment(origin.id, 0, int(c) - 1))
            if c < n:
                segs.append(Segment(srv.id, int(c), n - 1))
            out.append(RouteChoice(Route(demand.index, model.id, tuple(segs)), 1.0, float(cost[c]), float(latency[c]), float(energy[c])))
    return sorted(out, key=lambda x: (x.cost, x.latency_s))


SERVER_OPTION = Option("server", "node", None, "the server node of every class (default: the nearest node of tier 'edge', else 'cloud'); must not be a class's origin")


def server_of(instance: Instance, demand: Demand, opts: SolveOptions, method: str) -> str:
    """The server of a class: the ``server`` option, else the nearest edge (else cloud) node."""
    server = opts.extra.get("server")
    if server is not None:
        if server == demand.origin:
            raise MethodError(f"{method}: option server={server} is the origin of demand class {demand.index} ({demand.label}); a server must be another node")
        if not instance.network.can_reach(demand.origin, server):
            raise MethodError(f"{method}: option server={server} cannot be reached from '{demand.origin}', the origin of demand class {demand.index}")
        return server
    server = default_server(instance, demand.origin)
    if server is None:
        raise MethodError(f"{method}: no server for demand class {demand.index} ({demand.label}): give --option server=NODE (a node id), or tag a node with tier 'edge' or 'cloud'")
    return server


@register("two-tier", "Neurosurgeon-style: best single device/server cut per class, exhaustive scan (option server=NODE)", splitting=True, min_segments=2, options=(SERVER_OPTION,))
def two_tier(instance: Instance, opts: SolveOptions) -> Plan:
    start = time.perf_counter()
    cap = Capacity(instance)
    chosen, failures, servers = [], [], set()
    for demand in sorted(instance.demands, key=lambda d: (-d.rate_rps, d.index)):
        server = server_of(instance, demand, opts, "two-tier")
        servers.add(server)
        placed = False
        for choice in cut_scan(instance, demand, server):
            col = column_from_route(instance, choice.route, set())
            if cap.fits(col, demand.rate_rps):
                cap.commit(col, demand.rate_rps)
                chosen.append(choice)
                placed = True
                break
        if not placed:
            failures.append(f"demand class {demand.index} ({demand.label}): no cut between '{demand.origin}' and '{server}' meets its SLO and accuracy floor within the capacity left")
    if failures:
        raise InfeasibleError(failures + ["(two-tier only considers device/server cuts: this does not prove that no plan exists)"], method="two-tier")
    single = len(instance.demands) == 1
    whole_space = single and set(instance.network.reachable(instance.demands[0].origin)) <= {instance.demands[0].origin, *servers}
    return build_plan(
        instance,
        "two-tier",
        sorted(chosen, key=lambda c: c.route.demand),
        PlanStatus.OPTIMAL if whole_space else PlanStatus.HEURISTIC,
        termination=Termination.COMPLETED,
        solve_time_s=time.perf_counter() - start,
        seed=opts.seed,
        notes=[] if whole_space else ["exact among device/server cuts only"],
    )
