"""A suite plugin for the warm-pool tests: a method that changes a module global and reports it (not a test module)."""

from __future__ import annotations

import os

from solvers import register, solve

CALLS = 0


@register("bench-state", "Test method: count calls in a module global; the plan's notes say the count and the pid")
def _state(instance, opts):
    global CALLS
    CALLS += 1
    plan = solve(instance, "greedy", seed=opts.seed)
    plan.method = "bench-state"
    plan.notes = [*plan.notes, f"calls={CALLS}", f"pid={os.getpid()}"]
    return plan
