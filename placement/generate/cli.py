"""``idnplan generate``: flags (or a config file) -> GeneratorConfig -> instance file."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .. import cliargs as ca
from ..errors import InputError, Problem
from ..fileio import dump_yaml, parse_model, read_document
from ..limits import check_input_file, check_output_path
from .config import TIER_DEFAULTS, GeneratorConfig

#: Largest instance the generator builds (nodes), and largest model catalog
#: (models x layers): beyond these a run takes minutes and gigabytes.
MAX_NODES = 100_000
MAX_MODEL_LAYERS = 1_000_000

_DEFAULT_TIERS = {
    1: ["device"],
    2: ["edge", "device"],
    3: ["edge", "access", "device"],
    4: ["regional", "edge", "access", "device"],
}


def add_generate_parser(sub) -> None:
    g = sub.add_parser(
        "generate",
        help="generate an instance (tiered tree, random or real backbone, Zipf demand)",
        description="Generate an instance file. The same flags and seed always give the same file.",
    )
    kinds = g.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=type(g))

    def common(p: argparse.ArgumentParser, backbone: bool) -> None:
        p.add_argument("--out", "-o", required=True, metavar="FILE", help="instance file to write (.yaml or .json)")
        p.add_argument("--mkdir", action="store_true", help="create the folder of --out if it does not exist")
        p.add_argument("--name", help="instance name (default: from the file name)")
        p.add_argument("--seed", type=ca.seed, default=0)
        default_fanout = "2,4" if backbone else "4,4,4,4"
        p.add_argument("--fanout", default=default_fanout, help=f"children per node for each level below the {'backbone' if backbone else 'cloud'} (default {default_fanout})")
        p.add_argument("--tiers", help="tier of each level, comma-separated (tiers repeat freely; default for 1 to 4 levels (1 to 3 below a backbone): device / edge,device / edge,access,device / regional,edge,access,device)")
        p.add_argument("--devices", action="append", metavar="TIER=D1+D2", help="device types of a tier, e.g. device=cortex-m7+esp32-s3 (repeatable)")
        p.add_argument("--links", action="append", metavar="TIER=CLASS", help="link class up from a tier, e.g. device=ble (repeatable; see README for classes)")
        p.add_argument("--cloud-device", default="a100", help="device type of the cloud node (default a100)")
        p.add_argument("--tasks", type=ca.positive_int, default=2, help="synthetic models: number of tasks (default 2)")
        p.add_argument("--models-per-task", type=ca.positive_int, default=3, help="synthetic models per task (default 3)")
        p.add_argument("--layers", type=ca.positive_int, default=12, help="layers (cut positions) per synthetic model (default 12)")
        p.add_argument("--profiles", help="use these profile files (comma-separated) as models instead of synthetic ones")
        p.add_argument("--classes-per-origin", type=ca.positive_int, default=1)
        p.add_argument("--zipf", type=ca.nonneg_number, default=0.8, help="Zipf exponent of task popularity (default 0.8)")
        p.add_argument("--rate", default="0.5,2.0", metavar="LO,HI", help="total request rate per origin, req/s (default 0.5,2.0)")
        p.add_argument("--slo", default="0.2,1.0", metavar="LO,HI", help="max_latency_s range (default 0.2,1.0)")
        p.add_argument("--min-accuracy", default="0,0", metavar="LO,HI", help="min_accuracy range (default 0,0)")
        p.add_argument("--routing", choices=["splittable", "unsplittable"], default="splittable")
        p.add_argument("--max-segments", type=lambda t: ca.positive_int(t, 1000), default=2)
        p.add_argument("--max-utilization", type=ca.utilization, default=0.8)
        p.add_argument("--print-config", action="store_true", help="also print the generator config as YAML")
        p.set_defaults(func=_run)

    common(kinds.add_parser("tiered", help="a tree: cloud at the root, levels below"), backbone=False)
    w = kinds.add_parser("waxman", help="Waxman random backbone (networkx), trees below each backbone node")
    w.add_argument("--backbone-nodes", type=ca.positive_int, default=10)
    w.add_argument("--alpha", type=ca.positive_number, default=0.4)
    w.add_argument("--beta", type=ca.positive_number, default=0.2)
    w.add_argument("--km-per-unit", type=ca.positive_number, default=2000.0, help="scale of the unit square, km (latency from distance)")
    common(w, backbone=True)
    b = kinds.add_parser("barabasi-albert", help="Barabasi-Albert random backbone (networkx)")
    b.add_argument("--backbone-nodes", type=ca.positive_int, default=10)
    b.add_argument("--m", type=ca.positive_int, default=2, help="edges per new node")
    common(b, backbone=True)
    t = kinds.add_parser("topology", help="a GML/GraphML file (e.g. Internet Topology Zoo) as the backbone")
    t.add_argument("file", metavar="FILE")
    common(t, backbone=True)
    c = kinds.add_parser("config", help="everything from a generator config file (YAML/JSON)")
    c.add_argument("file", metavar="CONFIG")
    c.add_argument("--out", "-o", required=True, metavar="FILE")
    c.add_argument("--mkdir", action="store_true", help="create the folder of --out if it does not exist")
    c.add_argument("--seed", type=ca.seed, help="override the config's seed")
    c.add_argument("--print-config", action="store_true")
    c.set_defaults(func=_run)


def _range(text: str, flag: str) -> list[float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise InputError(Problem(None, flag, f"expected LO,HI (two numbers), got '{text}'")) from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(Problem(None, flag, f"expected two finite numbers, got '{text}'"))
    return [lo, hi]


def _assignments(items: list[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise InputError(Problem(None, flag, f"expected TIER=VALUE, got '{item}'"))
        out[key] = value
    return out


def config_from_args(args: argparse.Namespace) -> dict:
    """The generator config (plain data) that the flags describe."""
    try:
        fanout = [ca.positive_int(x) for x in args.fanout.split(",")]
    except (ValueError, argparse.ArgumentTypeError):
        raise InputError(Problem(None, "--fanout", f"expected comma-separated positive integers, got '{args.fanout}'")) from None
    if args.tiers:
        tiers = args.tiers.split(",")
    elif len(fanout) in _DEFAULT_TIERS and not (args.kind != "tiered" and len(fanout) == 4):
        tiers = _DEFAULT_TIERS[len(fanout)]
    else:
        dflt = "; ".join(f"{n}: {','.join(t)}" for n, t in _DEFAULT_TIERS.items() if args.kind == "tiered" or n < 4)
        raise InputError(Problem(None, "--tiers", f"{len(fanout)} levels need --tiers, the tier of each level (e.g. "
                                 f"--tiers {','.join((['regional'] * len(fanout) + ['edge', 'access', 'device'])[-len(fanout):])}); "
                                 f"defaults exist only for these level counts: {dflt}"))
    if len(tiers) != len(fanout):
        raise InputError(Problem(None, "--tiers", f"{len(tiers)} tiers for {len(fanout)} fanouts"))
    devices = _assignments(args.devices, "--devices")
    links = _assignments(args.links, "--links")
    levels = []
    for tier, f in zip(tiers, fanout):
        dflt_dev, dflt_link = TIER_DEFAULTS.get(tier, (["rpi4"], "wifi"))
        levels.append({
            "tier": tier,
            "fanout": f,
            "devices": devices[tier].split("+") if tier in devices else dflt_dev,
            "link": links.get(tier, dflt_link),
        })
    cfg: dict = {
        "name": args.name or Path(args.out).stem,
        "seed": args.seed,
        "root": {"tier": "cloud", "devices": [args.cloud_device]},
        "levels": levels,
        "demand": {
            "classes_per_origin": args.classes_per_origin,
            "zipf_s": args.zipf,
            "rate_rps": _range(args.rate, "--rate"),
            "max_latency_s": _range(args.slo, "--slo"),
            "min_accuracy": _range(args.min_accuracy, "--min-accuracy"),
        },
        "options": {"routing": args.routing, "max_segments": args.max_segments, "max_utilization": args.max_utilization},
    }
    if args.profiles:
        cfg["models"] = {"profiles": [{"profile": p} for p in args.profiles.split(",")]}
    else:
        cfg["models"] = {"synthetic": {"tasks": args.tasks, "per_task": args.models_per_task, "layers": args.layers}}
    if args.kind == "waxman":
        cfg["backbone"] = {"kind": "waxman", "nodes": args.backbone_nodes, "alpha": args.alpha, "beta": args.beta, "km_per_unit": args.km_per_unit}
    elif args.kind == "barabasi-albert":
        cfg["backbone"] = {"kind": "barabasi-albert", "nodes": args.backbone_nodes, "m": args.m}
    elif args.kind == "topology":
        cfg["backbone"] = {"kind": "file", "file": str(Path(args.file).resolve())}
    return cfg


def _check_size(config: GeneratorConfig, source: str) -> None:
    """Refuse configs whose instance would be too big to build in reasonable time."""
    nodes, width = 1, 1
    for level in config.levels:
        width *= level.fanout
        nodes += width
        if nodes > MAX_NODES:
            break
    if config.backbone is not None and config.backbone.nodes:
        nodes *= config.backbone.nodes
    if nodes > MAX_NODES:
        raise InputError(Problem(source, "levels[].fanout", f"the instance would have more than {MAX_NODES:,} nodes (the generator's limit); use smaller fanouts"))
    syn = config.models.synthetic
    if syn is not None and syn.tasks * syn.per_task * syn.layers > MAX_MODEL_LAYERS:
        raise InputError(Problem(source, "models.synthetic", f"tasks x per_task x layers = {syn.tasks * syn.per_task * syn.layers:,}, above the generator's limit of {MAX_MODEL_LAYERS:,}"))


def _run(args: argparse.Namespace) -> int:
    from ..instance import load_instance, save_instance
    from . import generate

    check_output_path(args.out, "--out", args.mkdir)
    if args.kind == "config":
        data, lines = read_document(args.file)
        if args.seed is not None and isinstance(data, dict):
            data["seed"] = args.seed
        config = parse_model(GeneratorConfig, data, args.file, lines)
        base = Path(args.file).resolve().parent
    else:
        data = config_from_args(args)
        config = parse_model(GeneratorConfig, data, "command line", None)
        base = Path.cwd()
    assert isinstance(config, GeneratorConfig)
    _check_size(config, "command line" if args.kind != "config" else args.file)
    if config.backbone is not None and config.backbone.kind == "file" and config.backbone.file:
        check_input_file(base / config.backbone.file, config.backbone.file, "backbone.file")
    spec, warnings = generate(config, base, args.out)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.print_config:
        print(dump_yaml(config.model_dump(mode="json")), end="")
    from ..instance import Instance

    inst = Instance.from_spec(spec, Path(args.out).resolve().parent, str(args.out))  # validate before writing
    save_instance(spec, args.out)
    load_instance(args.out)  # and what was written loads back
    print(f"wrote {args.out}: {inst.summary()}")
    return 0
