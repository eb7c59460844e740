"""Per-layer cost of PyTorch models: MACs, parameters, cut sizes, latency, energy.

The public API::

    from profiling import profile_model, split_model, write_profile
    profile = profile_model("torchvision:resnet18", (1, 3, 224, 224))   # measured on this host + estimates
    captured = capture_model(model, example_input=x)                     # step by step, keeping the chain
    profile = profile_captured(captured, devices=["rpi4"], timing=NO_TIMING)
    write_profile(profile, "resnet18.json")
    head, tail = split_model(model, x, cut=8)      # tail(*head(x)) == model(x)

torch is imported by the submodules, so ``import profiling`` needs it; the
``idnplan`` CLI imports this package only for ``idnplan profile``.
"""

from .api import (
    NO_TIMING,
    Captured,
    Meta,
    Timing,
    capture_model,
    profile_captured,
    profile_json,
    profile_model,
    read_profile,
    write_profile,
)
from .capture import CaptureError, capture
from .chain import Chain, Layer, build_chain
from .estimate import segment_footprint
from .latency import HostTiming, measure_host
from .loader import load_model
from .split import build_segment, split_model

__all__ = [
    "NO_TIMING",
    "Captured",
    "Meta",
    "Timing",
    "capture_model",
    "profile_captured",
    "CaptureError",
    "Chain",
    "HostTiming",
    "Layer",
    "build_chain",
    "build_segment",
    "capture",
    "load_model",
    "measure_host",
    "profile_json",
    "profile_model",
    "read_profile",
    "segment_footprint",
    "split_model",
    "write_profile",
]
