"""Host latency: the whole model and every layer, measured at batch 1.

Method (docs/profiling.md explains why the per-layer sum matches):

- Each layer becomes a runnable segment (:func:`profiling.split.build_segment`).
- One *pass* runs the segments back to back, feeding each the previous one's
  outputs, and times every segment on its own (``time.perf_counter`` on CPU,
  CUDA events on a GPU). Layers are therefore timed in sequence, with the
  caches as the real model leaves them, not in isolation.
- Passes alternate with runs of the original (eager) model, after warm-up
  runs of both; so both see the same machine state, thermals and threads.
- The fixed cost of calling one segment (the GraphModule call and the timer,
  which the whole model does not pay) is measured on an empty segment and
  subtracted from every layer, never below zero.
- Each figure is the median over the repeats; the spread is the
  interquartile range. When the whole-model runs spread by more than 10 %
  of their median (another process competing for the cores), more repeats
  are taken, up to ``max_repeats`` and while the timed runs have taken less
  than ``budget_s``, so a burst of contention does not decide the median.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import fx

from .chain import Chain
from .split import build_segment


@dataclass
class HostTiming:
    """Measured latencies on the host.

    Attributes
    ----------
    device : str
        ``"host-cpu"`` or ``"host-cuda"``.
    threads : int
        ``torch.get_num_threads()`` during the measurement.
    warmup, repeats : int
        Untimed warm-up runs, then timed runs (of the model and of the chain each).
    model_median_s, model_spread_s, model_min_s, model_max_s : float
        The original model run end to end.
    layer_median_s, layer_spread_s : list of float
        Per layer, call overhead removed.
    call_overhead_s : float
        Median cost of calling an empty segment, subtracted from each layer.
    energy : dict
        Filled by :mod:`profiling.energy` when it measures during the runs.
    """

    device: str
    threads: int
    warmup: int
    repeats: int
    model_median_s: float
    model_spread_s: float
    model_min_s: float
    model_max_s: float
    layer_median_s: list[float]
    layer_spread_s: list[float]
    call_overhead_s: float
    model_runs_s: list[float] = field(default_factory=list)
    energy: dict = field(default_factory=dict)

    @property
    def layer_sum_s(self) -> float:
        return float(sum(self.layer_median_s))

    @property
    def sum_ratio(self) -> float:
        """Per-layer sum over the whole-model median (1.0 = perfect agreement)."""
        return self.layer_sum_s / self.model_median_s if self.model_median_s > 0 else float("nan")


#: Above this interquartile spread relative to the median, measured figures are flagged unreliable.
UNRELIABLE_SPREAD = 0.25


def reliability_warnings(median_s: float, spread_s: float, load_1min: float | None = None, cpus: int | None = None) -> list[str]:
    """Warnings that measured latencies are unreliable (empty when they look sound).

    Parameters
    ----------
    median_s, spread_s : float
        Median and interquartile range of the whole-model runs, seconds.
    load_1min : float, optional
        The machine's 1-minute load average (``os.getloadavg()[0]``).
    cpus : int, optional
        CPUs of the machine (``os.cpu_count()``).
    """
    out = []
    if median_s > 0 and spread_s > UNRELIABLE_SPREAD * median_s:
        out.append(
            f"measured latencies are unreliable: the whole-model runs spread by {100 * spread_s / median_s:.0f} % of their "
            f"median (interquartile range {spread_s * 1e3:.3f} ms against {median_s * 1e3:.3f} ms; above "
            f"{100 * UNRELIABLE_SPREAD:.0f} % other work is competing for the machine); profile again on an idle machine"
        )
    if load_1min is not None and cpus and load_1min > cpus:
        out.append(
            f"measured latencies are unreliable: the machine's load average {load_1min:.2f} exceeds its {cpus} CPUs "
            "(other processes were competing for the cores); profile again on an idle machine"
        )
    return out


def _iqr(xs: list[float]) -> float:
    if len(xs) < 4:
        return max(xs) - min(xs) if xs else 0.0
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[2] - q[0]


class _Timer:
    """Wall-clock timer on CPU; CUDA events (read after one synchronise per pass) on GPU."""

    def __init__(self, cuda: bool):
        self.cuda = cuda
        self.marks: list = []

    def mark(self):
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            self.marks.append(ev)
        else:
            self.marks.append(time.perf_counter())

    def intervals(self) -> list[float]:
        if self.cuda:
            torch.cuda.synchronize()
            out = [a.elapsed_time(b) / 1e3 for a, b in zip(self.marks, self.marks[1:])]
        else:
            out = [b - a for a, b in zip(self.marks, self.marks[1:])]
        self.marks = []
        return out


def _empty_segment() -> fx.GraphModule:
    graph = fx.Graph()
    x = graph.placeholder("x")
    graph.output((x,))
    return fx.GraphModule(torch.nn.Module(), graph)


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def measure_host(
    model: torch.nn.Module,
    chain: Chain,
    args: tuple,
    *,
    warmup: int = 3,
    repeats: int = 20,
    max_repeats: int | None = None,
    budget_s: float = 20.0,
    threads: int | None = None,
    meter=None,
) -> HostTiming:
    """Measure the model and each layer of ``chain`` on the device ``args`` live on.

    Parameters
    ----------
    model : torch.nn.Module
        The original model (timed end to end, eagerly).
    chain : Chain
        Its chain; the capture's graph module must live on the same device.
    args : tuple of torch.Tensor
        Inputs (batch 1 for the profile).
    warmup, repeats : int
        Untimed and timed runs.
    max_repeats : int, optional
        Upper bound on timed runs while the spread stays above 10 % of the
        median (default ``2 * repeats``), as long as the timed runs so far
        took less than ``budget_s`` seconds.
    threads : int, optional
        ``torch.set_num_threads`` for the measurement (restored afterwards).
    meter : profiling.energy.EnergyMeter, optional
        Started and stopped around the timed whole-model runs.

    Returns
    -------
    HostTiming
    """
    cuda = any(isinstance(a, torch.Tensor) and a.is_cuda for a in args)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        segments = [build_segment(chain, i, i) for i in range(len(chain.layers))]
        empty = _empty_segment()
        timer = _Timer(cuda)
        model_runs: list[float] = []
        layer_runs: list[list[float]] = [[] for _ in segments]
        overhead_runs: list[float] = []

        def run_model() -> None:
            timer.mark()
            model(*args)
            timer.mark()
            model_runs.append(timer.intervals()[0])

        def run_chain() -> None:
            values = args
            timer.mark()
            for seg in segments:
                values = _as_tuple(seg(*values))
                timer.mark()
            for k, dt in enumerate(timer.intervals()):
                layer_runs[k].append(dt)
            probe = args[0]
            timer.mark()
            for _ in range(8):
                empty(probe)
            timer.mark()
            overhead_runs.append(timer.intervals()[0] / 8)

        with torch.no_grad():
            for _ in range(warmup):
                run_model()
                run_chain()
            model_runs.clear()
            overhead_runs.clear()
            for runs in layer_runs:
                runs.clear()
            limit = max(repeats, max_repeats if max_repeats is not None else 2 * repeats)
            began = time.perf_counter()
            while len(model_runs) < repeats or (
                len(model_runs) < limit
                and time.perf_counter() - began < budget_s
                and _iqr(model_runs) > 0.1 * statistics.median(model_runs)
            ):
                if meter is not None:
                    meter.start()
                run_model()
                if meter is not None:
                    meter.stop(model_runs[-1])
                run_chain()
        overhead = statistics.median(overhead_runs)
        medians = [max(statistics.median(r) - overhead, 0.0) for r in layer_runs]
        return HostTiming(
            device="host-cuda" if cuda else "host-cpu",
            threads=torch.get_num_threads(),
            warmup=warmup,
            repeats=len(model_runs),
            model_median_s=statistics.median(model_runs),
            model_spread_s=_iqr(model_runs),
            model_min_s=min(model_runs),
            model_max_s=max(model_runs),
            layer_median_s=medians,
            layer_spread_s=[_iqr(r) for r in layer_runs],
            call_overhead_s=overhead,
            model_runs_s=list(model_runs),
        )
    finally:
        torch.set_num_threads(old_threads)
