"""Profiling speed and exactness against fvcore and torch's FlopCounterMode.

For each torchvision reference model (built with ``weights=None``, input
1x3x224x224, float32), in the same process and on the same inputs:

- ``ours``: ``profiling.profile_model(..., timing=NO_TIMING, devices=[])``: MACs,
  parameters, the chain of cuts and every byte figure;
- ``fvcore``: ``FlopCountAnalysis(model, x).total()``;
- ``fcm``: ``torch.utils.flop_counter.FlopCounterMode`` around one forward
  (its FLOPs / 2 = MACs);
- ``ours+lat``: the full profile with host latency (warm-up 3, 20 timed runs)
  and estimates for every catalog device, timed once.

Every tool is warmed up once on a small model first (imports, first-call
costs), each model runs one untimed forward, then the three counters are
timed ``--repeats`` times, interleaved; the table shows the median and, in
brackets, min-max. Run from the repository root::

    PYTHONPATH=. python benchmarks/profile_speed.py
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import sys
import time
import warnings

import torch
import torchvision

from placement.report import table
from profiling import NO_TIMING, profile_model
from profiling.loader import REFERENCE_MODELS, torchvision_metadata


def _fvcore(model, x) -> float:
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return float(analysis.total())


def _fcm(model, x) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return counter.get_total_flops() / 2


def _ours(model, x) -> float:
    return float(profile_model(model, example_input=x, timing=NO_TIMING, devices=[]).macs)


def _full_profile(model, x):
    return profile_model(model, example_input=x)


def _timed(fn, *args) -> tuple[float, float]:
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def _cell(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} [{min(times):.3f}-{max(times):.3f}]"


def run(models: list[str], repeats: int, latency: bool) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    small = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(4))
    xs = torch.randn(1, 3, 16, 16)
    small(xs)
    small.eval()
    for fn in (_ours, _fvcore, _fcm):
        fn(small, xs)

    rows = []
    for name in models:
        model = torchvision.models.get_model(name, weights=None).eval()
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            model(x)
        times = {"ours": [], "fvcore": [], "fcm": []}
        totals = {}
        for _ in range(repeats):
            for key, fn in (("ours", _ours), ("fvcore", _fvcore), ("fcm", _fcm)):
                dt, total = _timed(fn, model, x)
                times[key].append(dt)
                totals[key] = total
        published = torchvision_metadata(name)["_ops"] * 1e9
        ratio = statistics.median(times["ours"]) / statistics.median(times["fvcore"])
        row = [
            name,
            _cell(times["ours"]),
            _cell(times["fvcore"]),
            f"{ratio:.2f}",
            _cell(times["fcm"]),
            f"{totals['ours'] / 1e9:.4f}",
            f"{totals['fvcore'] / 1e9:.4f}",
            f"{totals['fcm'] / 1e9:.4f}",
            f"{published / 1e9:.3f}",
            f"{100 * (totals['ours'] / published - 1):+.3f}",
        ]
        if latency:
            dt, profile = _timed(_full_profile, model, x)
            h = profile.host
            row += [
                f"{dt:.1f}",
                f"{h.measured_latency_s * 1e3:.2f}",
                f"{h.layer_latency_sum_s * 1e3:.2f}",
                f"{100 * (h.layer_latency_sum_s / h.measured_latency_s - 1):+.1f}",
                str(h.repeats),
            ]
        rows.append(row)
        print(f"done {name}", file=sys.stderr, flush=True)

    headers = [
        "model", "ours s", "fvcore s", "ours/fvcore", "fcm s", "ours GMAC", "fvcore GMAC", "fcm GMAC", "published GMAC", "ours vs pub %",
    ]
    if latency:
        headers += ["ours+lat s", "model ms", "layer sum ms", "sum vs model %", "runs"]
    print(
        f"host: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"torchvision {torchvision.__version__}, python {platform.python_version()}; counter times: median [min-max] of {repeats}"
    )
    print(table(headers, rows, "l" + "r" * (len(headers) - 1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(REFERENCE_MODELS), help="comma-separated torchvision model names")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each counter (default 3)")
    parser.add_argument("--no-latency", action="store_true", help="skip the profiles with host latency")
    args = parser.parse_args(argv)
    run([m for m in args.models.split(",") if m], args.repeats, not args.no_latency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
