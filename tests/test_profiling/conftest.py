"""Fixtures for the profiler tests: small models with hand-computed figures, and
each torchvision reference model profiled once per session (no latency)."""

from __future__ import annotations

import pytest


class _Profiles:
    """Profiles each torchvision model at most once per test session."""

    def __init__(self):
        self._cache = {}

    def get(self, name: str):
        if name not in self._cache:
            import torch

            from profiling import NO_TIMING, capture_model, profile_captured
            from profiling.loader import load_model

            loaded = load_model(f"torchvision:{name}")
            x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
            captured = capture_model(loaded, example_input=x)
            profile = profile_captured(captured, timing=NO_TIMING)
            chain = captured.chain
            self._cache[name] = (loaded, profile, chain, x)
        return self._cache[name]


@pytest.fixture(scope="session")
def tv_profiles():
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    return _Profiles()
