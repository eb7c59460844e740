"""Turning a MODEL argument into a model: ``torchvision:NAME[@WEIGHTS]`` or ``package.module:callable``.

torchvision models are built with ``weights=None`` (nothing is downloaded);
their published figures (accuracy, MACs, parameters) come from the weight
enum's metadata, which ships inside torchvision.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from dataclasses import dataclass

import torch

from placement.errors import InputError

#: Weights whose metadata a plain ``torchvision:NAME`` uses: the original
#: ImageNet-1K recipe, the figure most papers quote (``@DEFAULT`` or
#: ``@IMAGENET1K_V2`` picks another).
DEFAULT_WEIGHTS = "IMAGENET1K_V1"

#: The torchvision models the profiler is checked against (published MACs and
#: parameter counts in their weight metadata): the tests, the speed benchmark
#: and the shipped profiles in ``instances/profiles/`` all use this list.
REFERENCE_MODELS = [
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "efficientnet_b0",
    "squeezenet1_1",
    "regnet_y_400mf",
    "vit_b_16",
]


@dataclass
class LoadedModel:
    """A model plus what is known about it without running it.

    Attributes
    ----------
    model : torch.nn.Module
    name : str
        Identifier for the profile's ``model`` field.
    source : str
        Where it came from, e.g. ``torchvision.models.resnet18``.
    accuracy : float or None
        Top-1 accuracy as a fraction, from weight metadata.
    task : str or None
    published_macs : float or None
        MACs as published (torchvision's ``_ops`` GFLOPS, which count MACs).
    published_params : int or None
    weights : str or None
        The weight enum whose metadata was used.
    """

    model: torch.nn.Module
    name: str
    source: str
    accuracy: float | None = None
    task: str | None = None
    published_macs: float | None = None
    published_params: int | None = None
    weights: str | None = None


def torchvision_metadata(name: str, weights: str | None = None) -> dict:
    """Metadata of a torchvision weight enum entry (no download)."""
    import torchvision

    enum = torchvision.models.get_model_weights(name)
    members = {w.name: w for w in enum}
    if weights in (None, ""):
        weights = DEFAULT_WEIGHTS if DEFAULT_WEIGHTS in members else next(iter(members))
    if weights == "DEFAULT":
        weights = enum.DEFAULT.name
    if weights not in members:
        raise InputError(f"torchvision model '{name}' has no weights '{weights}' (known: {', '.join(members)})")
    entry = members[weights]
    meta = dict(entry.meta)
    meta["weights_name"] = f"{enum.__name__}.{weights}"
    return meta


def load_torchvision(spec: str) -> LoadedModel:
    """``NAME`` or ``NAME@WEIGHTS`` of torchvision.models."""
    try:
        import torchvision
    except ImportError:
        from placement.errors import MissingDependencyError

        raise MissingDependencyError("torchvision", "profiling torchvision models", "vision") from None
    name, _, weights = spec.partition("@")
    known = torchvision.models.list_models()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see torchvision.models.list_models())"
        raise InputError(f"unknown torchvision model '{name}'{hint}")
    model = torchvision.models.get_model(name, weights=None)
    try:
        meta = torchvision_metadata(name, weights or None)
    except ValueError:  # a model without published weights
        meta = {}
    metrics = meta.get("_metrics", {})
    acc = None
    task = None
    for dataset, figures in metrics.items():
        if "acc@1" in figures:
            acc = figures["acc@1"] / 100.0
            task = f"{dataset.lower().replace('-1k', '')}-cls"
            break
    ops = meta.get("_ops")
    return LoadedModel(
        model=model,
        name=name,
        source=f"torchvision.models.{name}",
        accuracy=acc,
        task=task,
        published_macs=ops * 1e9 if ops is not None else None,
        published_params=meta.get("num_params"),
        weights=meta.get("weights_name"),
    )


def load_callable(spec: str) -> LoadedModel:
    """``package.module:attr``: a factory (called without arguments), a class, or a module instance."""
    modname, _, attr = spec.partition(":")
    if not modname or not attr:
        raise InputError(f"MODEL must be 'torchvision:NAME' or 'package.module:callable', got '{spec}'")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # so `idnplan profile mymodel:build` finds ./mymodel.py
    try:
        module = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        raise InputError(f"cannot import '{modname}' for MODEL '{spec}': {exc}") from None
    except SystemExit as exc:
        raise InputError(f"importing '{modname}' called sys.exit({exc.code!r}); a model module must not exit") from None
    except Exception as exc:  # noqa: BLE001 - the user's module failed while importing
        raise InputError(f"importing '{modname}' failed: {type(exc).__name__}: {exc}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"'{modname}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if isinstance(obj, torch.nn.Module):
        model = obj
    elif callable(obj):
        try:
            model = obj()
        except SystemExit as exc:
            raise InputError(f"calling {spec}() called sys.exit({exc.code!r}) instead of returning a torch.nn.Module") from None
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"calling {spec}() failed: {type(exc).__name__}: {exc}") from None
    else:
        raise InputError(f"{spec} is neither a torch.nn.Module nor callable")
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"{spec}() returned {type(model).__name__}, not a torch.nn.Module")
    return LoadedModel(model=model, name=attr.split(".")[-1], source=spec)


def load_model(spec: str) -> LoadedModel:
    """Resolve a MODEL argument of ``idnplan profile``.

    Parameters
    ----------
    spec : str
        ``torchvision:NAME``, ``torchvision:NAME@WEIGHTS`` or ``package.module:callable``.

    Raises
    ------
    InputError
        Unknown model, unimportable module, or a callable that does not give a module.
    """
    if spec.startswith("torchvision:"):
        return load_torchvision(spec[len("torchvision:") :])
    return load_callable(spec)


#: Most elements of all example inputs together (1 GiB at float32): a profile
#: of a bigger input would not fit the host's memory, and no model needs it.
MAX_INPUT_ELEMENTS = 2**28


def parse_input_shape(text: str) -> list[tuple[int, ...]]:
    """``"1,3,224,224"`` -> ``[(1, 3, 224, 224)]``; several inputs separated by ``;``.

    Raises :class:`InputError` for anything but positive integers, and for
    inputs of more than :data:`MAX_INPUT_ELEMENTS` elements in all.
    """
    shapes = []
    total = 0
    for part in str(text).split(";"):
        try:
            dims = tuple(int(x) for x in part.replace(" ", "").split(",") if x != "")
        except ValueError:
            raise InputError(f"--input-shape must be comma-separated positive integers, got '{text}'") from None
        if not dims or any(d <= 0 for d in dims):
            raise InputError(f"--input-shape must be comma-separated positive integers, got '{text}'")
        size = 1
        for d in dims:
            size *= d
        total += size
        if total > MAX_INPUT_ELEMENTS:
            raise InputError(f"--input-shape '{text}' has {total:,} elements, more than the limit of {MAX_INPUT_ELEMENTS:,} (1 GiB at float32)")
        shapes.append(dims)
    return shapes
