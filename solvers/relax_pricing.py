"""Route pricing for ``relax``: full and partial passes, optionally over forked processes.

A **full** pass prices every class with one relaxation's duals; only a full
pass gives the Lagrangian bound (:meth:`solvers.relax_model.RelaxModel.lagrangian`
needs every class's least reduced cost under the same duals). A **partial**
pass prices only the classes whose last pass found a route of negative
reduced cost (classes that had none are skipped until the next full pass):
it brings routes in at a fraction of the cost while the duals still move,
and proves nothing. Classes are independent given the prices, so a pass can
be split over ``jobs`` processes (``fork``; each prices a contiguous range of
classes, so the devices under one access point share its re-rooted origin
tree); the routes and reduced costs are the same as in one process.

With ``floor`` (per class, a lower bound on every route's reduced cost: the
rate times the class's cheapest route cost, minus its offset, valid while
every price is >= 0), a class whose floor is at least ``-tol`` is not
priced: its least reduced cost is taken as ``min(0, floor)``, still a lower
bound, so the Lagrangian bound stays valid. Under ``queueing: none`` this
skips every class whose cheapest route pays no capacity or storage price.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass

import numpy as np

#: Contiguous chunks per process in a parallel pass (load balance against the cost of sending results back).
CHUNKS_PER_JOB = 8

_STATE: dict = {}  # what forked workers price with (set before the fork, inherited)


@dataclass
class PassResult:
    """One pricing pass: least reduced cost per priced class (0 where none is negative) and the new columns."""

    classes: np.ndarray  # classes priced (all of them unless the clock ran out)
    min_rc: np.ndarray  # per class of the instance (0 where not priced)
    columns: list
    complete: bool  # every requested class was priced
    cpu_s: float  # CPU seconds of the pass, workers included
    skipped: int = 0  # classes not priced (floor >= -tol)


def price_pass(rx, classes: np.ndarray, prices, tol: float, banned, forbidden, jobs: int = 1, floor: np.ndarray | None = None) -> PassResult:
    """Price ``classes`` with ``rx.price_class`` (see :class:`solvers.relax.Relax`), in ``jobs`` processes."""
    C = len(rx.inst.demands)
    min_rc = np.zeros(C)
    c0 = time.process_time()
    skipped = np.zeros(0, dtype=np.int64)
    if floor is not None:
        skip = floor[classes] >= -tol
        skipped = classes[skip]
        min_rc[skipped] = np.minimum(floor[skipped], 0.0)
        classes = classes[~skip]
    res = _pass(rx, classes, prices, tol, banned, forbidden, jobs, min_rc, c0)
    if len(skipped):
        res.classes = np.concatenate([res.classes, skipped])
        res.skipped = len(skipped)
    return res


def _pass(rx, classes: np.ndarray, prices, tol: float, banned, forbidden, jobs: int, min_rc: np.ndarray, c0: float) -> PassResult:
    forked = _forked_map(_worker, classes, jobs, rx=rx, prices=prices, tol=tol, banned=banned, forbidden=forbidden)
    if forked is None:
        done, cols = _price_range(rx, classes, prices, tol, banned, forbidden, min_rc)
        return PassResult(classes[:done], min_rc, cols, done == len(classes), time.process_time() - c0)
    cols, priced, cpu = [], [], 0.0
    for chunk, (done, rcs, got, cpu_s) in zip(*forked):
        min_rc[chunk[:done]] = rcs
        priced.append(chunk[:done])
        cols.extend(got)
        cpu += cpu_s
    priced_all = np.concatenate(priced) if priced else np.zeros(0, dtype=np.int64)
    return PassResult(priced_all, min_rc, cols, len(priced_all) == len(classes), time.process_time() - c0 + cpu)


def _forked_map(worker, classes: np.ndarray, jobs: int, **state) -> tuple[list[np.ndarray], list] | None:
    """``worker`` over contiguous chunks of ``classes`` in ``jobs`` forked processes, which inherit ``state``
    (read through ``_STATE``); the chunks and their results, or None where one process should do it all."""
    if jobs <= 1 or len(classes) < 2 * jobs or "fork" not in mp.get_all_start_methods():
        return None
    chunks = [c for c in np.array_split(classes, jobs * CHUNKS_PER_JOB) if len(c)]
    _STATE.update(state)
    try:
        with mp.get_context("fork").Pool(jobs) as pool:
            return chunks, pool.map(worker, chunks, chunksize=1)
    finally:
        _STATE.clear()


def _price_range(rx, classes: np.ndarray, prices, tol: float, banned, forbidden, min_rc: np.ndarray) -> tuple[int, list]:
    """Price classes in order until the clock runs out; returns how many were priced and the new columns."""
    cols: list = []
    for n, c in enumerate(classes):
        if rx.opts.expired():
            return n, cols
        pr = prices[int(c)]
        if forbidden:
            pr.forbidden = forbidden
        rc, got = rx.price_class(rx.inst.demands[int(c)], pr, tol, banned)
        min_rc[c] = rc
        cols.extend(got)
    return len(classes), cols


def initial_pass(rx, jobs: int = 1) -> list:
    """The cheapest ``INITIAL_ROUTES`` routes of every class (``rx.initial_routes``), in ``jobs`` processes.

    Returns the columns in class order (as one process would).
    """
    classes = np.arange(len(rx.inst.demands))
    forked = _forked_map(_initial_worker, classes, jobs, rx=rx)
    if forked is None:
        return [col for c in classes for col in rx.initial_routes(int(c))]
    parts = forked[1]
    rx.pricing_cpu_s += sum(cpu for _, cpu in parts)
    return [col for got, _ in parts for col in got]


def _initial_worker(chunk: np.ndarray):
    c0 = time.process_time()
    rx = _STATE["rx"]
    return [col for c in chunk for col in rx.initial_routes(int(c))], time.process_time() - c0


def _worker(chunk: np.ndarray):
    c0 = time.process_time()
    s = _STATE
    rc = np.zeros(len(s["rx"].inst.demands))
    done, cols = _price_range(s["rx"], chunk, s["prices"], s["tol"], s["banned"], s["forbidden"], rc)
    return done, rc[chunk[:done]], cols, time.process_time() - c0
