"""``idnplan profile``: profile a model, print its per-layer table, write the profile file.

Called lazily by :mod:`placement.cli`; bad input raises
:class:`~placement.errors.InputError` (exit code 2, one message, no traceback).
"""

from __future__ import annotations

import argparse
import math
import sys

from placement.cliargs import max_threads
from placement.errors import InputError
from placement.report import fmt_bytes, table
from placement.schema import ProfileSpec

from .api import Meta, Timing, profile_model, write_profile
from .loader import parse_input_shape


def _fmt_count(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3f} {unit}"
    return f"{x:.0f}"


def _fmt_latency(seconds: float | None, source: str | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    mark = {"measured": "m", "estimated": "e"}.get(source or "", "?")
    return f"{seconds * 1e3:.3f} {mark}"


def profile_table(profile: ProfileSpec) -> str:
    """The per-layer table: MACs, parameters, bytes and latency per device (m = measured, e = estimated)."""
    devices: list[str] = []
    for lay in profile.layers:
        for d in lay.latency_s:
            if d not in devices:
                devices.append(d)
    headers = ["#", "layer", "MACs", "params", "out_bytes", "peak_act_bytes"] + [f"{d} ms" for d in devices]
    rows = []
    for i, lay in enumerate(profile.layers):
        rows.append(
            [i, lay.name, _fmt_count(lay.macs), _fmt_count(lay.params or 0), fmt_bytes(lay.out_bytes), fmt_bytes(lay.peak_activation_bytes)]
            + [_fmt_latency(lay.latency_s.get(d), lay.latency_source.get(d)) for d in devices]
        )
    totals = ["", "total", _fmt_count(profile.macs or 0), _fmt_count(profile.params or 0), "", ""]
    for d in devices:
        vals = [lay.latency_s.get(d) for lay in profile.layers]
        totals.append(f"{sum(v for v in vals if v is not None) * 1e3:.3f}" if all(v is not None for v in vals) else "-")
    rows.append(totals)
    return table(headers, rows, "rl" + "r" * (len(headers) - 2))


def profile_summary(profile: ProfileSpec) -> str:
    """A few lines under the table: totals, published figures, host timing."""
    lines = [f"model {profile.model} ({profile.source}), input {profile.input_shape}, {profile.dtype}, captured with {profile.tracer}"]
    macs = f"MACs {profile.macs:,.0f}"
    if profile.published_macs:
        macs += f" (published {profile.published_macs:,.0f}: {100 * (profile.macs / profile.published_macs - 1):+.3f} %)"
    lines.append(f"{macs}; element-wise FLOPs {profile.elementwise_flops:,.0f}; params {profile.params:,d} ({fmt_bytes(profile.param_bytes)})")
    h = profile.host
    if h is not None and h.measured_latency_s is not None:
        ratio = (h.layer_latency_sum_s or 0) / h.measured_latency_s
        lines.append(
            f"host {h.device} ({h.cpu}, {h.threads} threads): whole model {h.measured_latency_s * 1e3:.3f} ms median "
            f"(IQR {h.latency_spread_s * 1e3:.3f} ms, {h.repeats} runs); sum of layers {h.layer_latency_sum_s * 1e3:.3f} ms "
            f"({100 * (ratio - 1):+.1f} %); energy {h.energy_j:.4g} J ({(h.energy_source or '').split(':')[0]})"
        )
    for key in ("latency.host", "uncounted_ops"):
        if key in profile.assumptions:
            lines.append(f"{key}: {profile.assumptions[key]}")
    lines.append("m = measured on this host, e = estimated from the device catalog (assumptions in the profile's 'assumptions').")
    return "\n".join(lines)


def profile_from_args(args: argparse.Namespace) -> int:
    """Run ``idnplan profile`` from parsed arguments; returns the exit code."""
    shapes = parse_input_shape(args.input_shape)
    devices = getattr(args, "devices", None)
    threads = getattr(args, "threads", None)
    if threads is not None and not 1 <= threads <= max_threads():
        raise InputError(f"--threads must be between 1 and {max_threads()}, got {threads}")
    if getattr(args, "repeats", 20) < 1:
        raise InputError(f"--repeats must be >= 1, got {args.repeats}")
    try:
        timing = Timing(measure=not args.no_latency, repeats=getattr(args, "repeats", 20), threads=threads, device=getattr(args, "device", "cpu"))
        profile = profile_model(args.model, shapes, devices=devices, dtype=args.dtype, timing=timing, meta=Meta(name=getattr(args, "name", None)))
    except SystemExit as exc:  # the user's model code exited (in a factory or in forward)
        raise InputError(f"the model's code called sys.exit({exc.code!r}) while being profiled; nothing was written") from None
    if not getattr(args, "quiet", False):
        print(profile_table(profile))
        print(profile_summary(profile))
    if profile.host is not None and profile.host.notes:  # unreliable measurements: say so even with --quiet
        for note in profile.host.notes.split("; "):
            print(f"warning: {note}", file=sys.stderr)
    if getattr(args, "out", None) is not None:
        write_profile(profile, args.out)
        print(f"profile written to {args.out}", file=sys.stderr if getattr(args, "quiet", False) else sys.stdout)
    return 0
