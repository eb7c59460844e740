"""Profiler suites (``kind: profile``): MAC counts against the published figures, and counting time.

A profile suite names torchvision ``models`` (built with ``weights=None``: no
download; the published MACs come from the weight metadata) and
``methods`` from :data:`PROFILERS` instead of solver methods:

- ``idnplan``: ``profiling.profile_model(..., timing=NO_TIMING, devices=[])``
  (MACs, parameters, the chain of cuts and every byte figure);
- ``idnplan-latency``: the full profile, with host latency measured and
  estimates for every catalog device;
- ``fcm``: torch's ``FlopCounterMode`` around one forward (FLOPs / 2);
- ``fvcore``: ``FlopCountAnalysis(...).total()`` (needs fvcore).

A run = model x profiler x seed x repeat. The worker builds the model and
its input (1x3x224x224, float32, seed 0; ``load_s``), runs one untimed
forward, then times the counter (``method_s``, measured). Rows carry
``macs`` (counted), ``published_macs`` and ``macs_error_pct`` = 100 x
(counted / published - 1); ``layers`` is the number of chain layers of the
profile (``idnplan`` profilers only).
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Profiler name -> what it does (the ``methods`` a profile suite may name).
PROFILERS: dict[str, str] = {
    "idnplan": "idnplan's profiler, counting only (no timing, no device estimates)",
    "idnplan-latency": "idnplan's full profile: host latency measured, every catalog device estimated",
    "fcm": "torch.utils.flop_counter.FlopCounterMode around one forward (FLOPs / 2)",
    "fvcore": "fvcore FlopCountAnalysis (needs fvcore)",
}
#: Packages a profiler needs (checked when the suite is loaded).
REQUIRES: dict[str, tuple[str, ...]] = {p: ("torch", "torchvision") for p in PROFILERS}
REQUIRES["fvcore"] = ("torch", "torchvision", "fvcore")


def missing(profiler: str) -> list[str]:
    """Packages ``profiler`` needs that are not installed."""
    import importlib.util

    return [p for p in REQUIRES.get(profiler, ()) if importlib.util.find_spec(p) is None]


def _ours(model, x) -> tuple[float, int]:
    from profiling import NO_TIMING, profile_model

    prof = profile_model(model, example_input=x, timing=NO_TIMING, devices=[])
    return float(prof.macs), len(prof.layers)


def _ours_latency(model, x) -> tuple[float, int]:
    from profiling import profile_model

    prof = profile_model(model, example_input=x)
    return float(prof.macs), len(prof.layers)


def _fcm(model, x) -> tuple[float, None]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return counter.get_total_flops() / 2, None


def _fvcore(model, x) -> tuple[float, None]:
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return float(analysis.total()), None


COUNTERS: dict[str, Callable] = {"idnplan": _ours, "idnplan-latency": _ours_latency, "fcm": _fcm, "fvcore": _fvcore}


def execute_profile(desc: dict) -> dict:
    """One profiler run: build the model, one untimed forward, time the counter."""
    import json
    import logging
    import warnings

    import torch
    import torchvision

    from profiling.loader import torchvision_metadata

    warnings.filterwarnings("ignore")
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    model_desc = json.loads(desc["instance_json"])
    name = model_desc["torchvision"]
    torch.manual_seed(desc["seed"])
    t = time.perf_counter()
    model = torchvision.models.get_model(name, weights=None).eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(x)
    out: dict = {"load_s": time.perf_counter() - t}
    t = time.perf_counter()
    macs, layers = COUNTERS[desc["method"]](model, x)
    out["method_s"] = time.perf_counter() - t
    try:
        published = float(torchvision_metadata(name)["_ops"]) * 1e9
    except (KeyError, ValueError):
        published = None
    out.update(status="feasible", macs=macs, published_macs=published, profile_layers=layers,
               macs_error_pct=None if not published else 100.0 * (macs / published - 1.0))
    return out


def model_instance(name: str):
    """A profile suite's model as the harness's instance record (label = model name; no nodes or classes)."""
    from .instances import ResolvedInstance
    from .suite import canonical_json, sha256

    text = canonical_json({"torchvision": name, "weights": None, "input_shape": [1, 3, 224, 224]})
    return ResolvedInstance(name, name, text, sha256(text), 0, 0, 0)
