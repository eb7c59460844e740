"""Model catalogs for generated instances: synthetic chains or profile files.

Synthetic models imitate the shape of real CNN profiles (see
``instances/profiles``): compute spread over the layers, activations that
shrink with depth (with bottleneck dips), parameters concentrated in the late
layers, and accuracy that grows with the log of compute. They are labelled
synthetic in their description; use profiles for real models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from ..fileio import parse_model, read_document, reference_from
from ..schema import LayerSpec, ModelSpec, ProfileSpec
from .config import Models, SyntheticModels


def synthetic_models(rng: np.random.Generator, cfg: SyntheticModels) -> list[ModelSpec]:
    """``tasks x per_task`` synthetic models; model j of a task has ~4^j the compute of model 0."""
    out = []
    n = cfg.layers
    for k in range(cfg.tasks):
        task = f"task{k}"
        input_bytes = float(cfg.input_bytes[k % len(cfg.input_bytes)])
        base_macs = float(rng.uniform(2e7, 6e7))
        top_acc = float(rng.uniform(0.72, 0.82))
        for j in range(cfg.per_task):
            macs_total = base_macs * 4.0**j
            params_total = macs_total / float(rng.uniform(60.0, 200.0))  # MACs per parameter
            acc = top_acc - 0.30 * 0.55**j  # concave in j: diminishing returns of compute
            acc = round(float(np.clip(acc + rng.normal(0, 0.005), 0.05, 0.99)), 4)
            mac_share = rng.dirichlet(np.full(n, 4.0))
            param_share = rng.dirichlet(np.full(n, 2.0)) * np.linspace(0.3, 1.7, n)
            param_share /= param_share.sum()
            depth = np.arange(1, n + 1) / n
            act = input_bytes * (1.3 + 0.4 * j) * np.exp(-4.5 * depth) * rng.uniform(0.6, 1.2, n)
            act[-1] = 4000.0  # 1000 float32 logits
            layers = [
                LayerSpec(
                    name=f"block{i}",
                    macs=round(float(macs_total * mac_share[i])),
                    param_bytes=round(float(4 * params_total * param_share[i])),
                    out_bytes=max(64.0, round(float(act[i]) / 4) * 4.0),
                )
                for i in range(n)
            ]
            out.append(ModelSpec(
                id=f"{task}-m{j}",
                task=task,
                accuracy=acc,
                input_bytes=input_bytes,
                layers=layers,
                description=f"synthetic model ({n} layers, {macs_total / 1e6:.0f} MMACs)",
            ))
    return out


def profile_models(cfg: Models, base_dir: Path, out_dir: Path) -> list[ModelSpec]:
    """Models that reference profile files (paths rewritten relative to the output file)."""
    out = []
    problems = []
    for i, entry in enumerate(cfg.profiles or []):
        path = Path(entry.profile)
        full = path if path.is_absolute() else base_dir / path
        try:
            data, lines = read_document(full)
            prof = parse_model(ProfileSpec, data, str(full), lines)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        assert isinstance(prof, ProfileSpec)
        accuracy = entry.accuracy if entry.accuracy is not None else prof.accuracy
        if accuracy is None:
            problems.append(Problem(str(full), "accuracy", f"profile has no accuracy; give models.profiles[{i}].accuracy"))
            continue
        out.append(ModelSpec(
            id=entry.id or prof.model,
            task=entry.task,
            accuracy=accuracy,
            input_bytes=prof.input_bytes,
            profile=reference_from(out_dir, full),
        ))
    if problems:
        raise InputError(problems)
    return out
