"""A suite plugin for the harness tests: methods that sleep, crash or use too much memory.

Loaded by suites with ``plugins: [plugin_methods.py]`` (not a test module).
"""

from __future__ import annotations

import os
import signal
import time

from solvers import Option, register, solve


@register("bench-sleep", "Test method: sleep sleep_s seconds, then the greedy plan", options=(Option("sleep_s", "float", 0.0, "seconds to sleep first"),))
def _sleep(instance, opts):
    time.sleep(opts.extra["sleep_s"])
    plan = solve(instance, "greedy", seed=opts.seed)
    plan.method = "bench-sleep"
    return plan


@register("bench-crash", "Test method: the process dies of SIGSEGV")
def _crash(instance, opts):
    os.kill(os.getpid(), signal.SIGSEGV)


@register("bench-hog", "Test method: allocate `bytes` bytes", options=(Option("bytes", "int", 8_000_000_000, "bytes to allocate"),))
def _hog(instance, opts):
    block = bytearray(opts.extra["bytes"])
    return block  # never reached under a memory limit
