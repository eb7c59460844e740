"""Energy per inference: measured where the hardware tells, estimated otherwise.

- CPU: Linux RAPL through powercap (``/sys/class/powercap/intel-rapl:N/energy_uj``,
  also exposed for AMD Zen), when the files are readable. The package
  domains (not their sub-zones, which they contain) are summed.
- GPU: NVML's total-energy counter (``nvmlDeviceGetTotalEnergyConsumption``,
  Volta and later), when the ``pynvml`` module is installed.
- Otherwise: estimated as active power x measured time, with the power
  figure and where it comes from recorded in the profile.

The meter is started and stopped around each timed whole-model run; the mean
energy per run divided by the mean run time is the average power, which
:func:`profiling.api.profile_model` multiplies by each layer's measured
latency to split the energy over layers.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

#: Host CPU power assumed when nothing can be measured: the catalog's
#: x86-server active power per core (270 W / 40 cores), times the threads used.
DEFAULT_WATTS_PER_CORE = 270.0 / 40.0


@dataclass
class EnergyMeter:
    """Accumulates energy and time over start/stop pairs.

    Attributes
    ----------
    source : str
        What is read, e.g. ``"RAPL powercap (package-0)"``.
    """

    source: str
    _read: object
    _wrap: float = float("inf")
    _start: float | None = None
    joules: float = 0.0
    seconds: float = 0.0
    runs: int = 0

    def start(self) -> None:
        self._start = self._read()

    def stop(self, duration_s: float) -> None:
        if self._start is None:
            return
        delta = self._read() - self._start
        if delta < 0:  # the counter wrapped around
            delta += self._wrap
        self.joules += delta
        self.seconds += duration_s
        self.runs += 1
        self._start = None

    @property
    def joules_per_run(self) -> float | None:
        return self.joules / self.runs if self.runs else None

    @property
    def power_w(self) -> float | None:
        return self.joules / self.seconds if self.seconds > 0 and self.joules > 0 else None


def _rapl_meter(root: str = "/sys/class/powercap") -> EnergyMeter | None:
    zones = sorted(p for p in glob.glob(os.path.join(root, "intel-rapl:*")) if p.count(":") == 1)
    readable = []
    wrap = 0.0
    names = []
    for zone in zones:
        path = os.path.join(zone, "energy_uj")
        try:
            with open(path) as fh:
                int(fh.read())
        except (OSError, ValueError):
            continue
        readable.append(path)
        try:
            with open(os.path.join(zone, "max_energy_range_uj")) as fh:
                wrap += int(fh.read()) / 1e6
        except (OSError, ValueError):
            wrap = float("inf")
        try:
            with open(os.path.join(zone, "name")) as fh:
                names.append(fh.read().strip())
        except OSError:
            names.append(os.path.basename(zone))
    if not readable:
        return None

    def read() -> float:
        total = 0
        for path in readable:
            with open(path) as fh:
                total += int(fh.read())
        return total / 1e6

    return EnergyMeter(source=f"RAPL powercap ({', '.join(names)})", _read=read, _wrap=wrap)


def _nvml_meter(index: int) -> EnergyMeter | None:
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except Exception:  # noqa: BLE001 - no NVML, or a GPU without an energy counter
        return None
    name = pynvml.nvmlDeviceGetName(handle)
    if isinstance(name, bytes):
        name = name.decode()

    def read() -> float:
        import torch

        torch.cuda.synchronize()  # the counter must include the kernels just queued
        return pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1e3

    return EnergyMeter(source=f"NVML total energy ({name})", _read=read)


def open_meter(cuda_index: int | None = None, powercap_root: str = "/sys/class/powercap") -> EnergyMeter | None:
    """A meter for the host device, or None when energy cannot be measured here.

    Parameters
    ----------
    cuda_index : int, optional
        Measure this GPU through NVML instead of the CPU through RAPL.
    powercap_root : str
        Where powercap lives (a parameter so tests can point it elsewhere).
    """
    if cuda_index is not None:
        return _nvml_meter(cuda_index)
    return _rapl_meter(powercap_root)


def estimated_host_power_w(threads: int) -> tuple[float, str]:
    """Power assumed for the host CPU when nothing is measured, and why."""
    watts = DEFAULT_WATTS_PER_CORE * threads
    why = (
        f"estimated: no readable RAPL/NVML counter; {DEFAULT_WATTS_PER_CORE:.2f} W per busy core "
        f"(catalog x86-server active_power_w 270 W / 40 cores) x {threads} threads = {watts:.2f} W, times measured latency"
    )
    return watts, why
