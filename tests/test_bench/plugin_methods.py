"""A suite plugin for the harness tests: methods that sleep, crash or use too much memory.

Loaded by suites with ``plugins: [plugin_methods.py]`` (not a test module).
"""

from __future__ import annotations

import os
import signal
import time

from solvers import register, solve

BENCH_OPTIONS = {"bench-sleep": ["sleep_s"], "bench-hog": ["bytes"], "bench-crash": []}


@register("bench-sleep", "Test method: sleep sleep_s seconds, then the greedy plan")
def _sleep(instance, opts):
    time.sleep(float(opts.extra.get("sleep_s", 0.0)))
    plan = solve(instance, "greedy", seed=opts.seed)
    plan.method = "bench-sleep"
    return plan


@register("bench-crash", "Test method: the process dies of SIGSEGV")
def _crash(instance, opts):
    os.kill(os.getpid(), signal.SIGSEGV)


@register("bench-hog", "Test method: allocate `bytes` bytes")
def _hog(instance, opts):
    block = bytearray(int(opts.extra.get("bytes", 8e9)))
    return block  # never reached under a memory limit
