"""Link classes used by the generators, with typical figures and their sources.

Bandwidths are sustained application-level throughputs in bytes/s (not PHY
rates), latencies one-way per hop in seconds, energies the sender's radio or
line energy per byte. They are typical figures for planning studies; every
generated link carries its class name in ``kind`` and can be edited.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkClass:
    name: str
    bandwidth_bytes_per_s: float
    latency_s: float
    energy_j_per_byte: float
    description: str
    source: str


LINK_CLASSES: dict[str, LinkClass] = {
    c.name: c
    for c in [
        LinkClass(
            "lora", 684.0, 0.1, 1.8e-4,
            "LoRa, SF7 / 125 kHz (5.47 kbit/s raw)",
            "Semtech SX1276 data sheet (SF7/125 kHz = 5.47 kbit/s); energy derived: ~120 mW TX x 1.46 ms per byte",
        ),
        LinkClass(
            "ble", 1.0e5, 0.015, 2.0e-7,
            "Bluetooth Low Energy 5, 2M PHY, about 800 kbit/s application throughput",
            "Bluetooth Core Spec 5.x (2 Mbit/s PHY); throughput and 7.5-15 ms connection interval typical of measured BLE links; energy approx. from nRF52840 radio current (about 5 mA at 3 V per 1 Mbit/s)",
        ),
        LinkClass(
            "wifi", 6.25e6, 0.002, 1.6e-7,
            "Wi-Fi 4/5 station uplink, about 50 Mbit/s goodput",
            "IEEE 802.11n/ac typical indoor goodput; energy approx.: about 1 W radio power at 50 Mbit/s (20 nJ/bit)",
        ),
        LinkClass(
            "lte", 2.5e6, 0.03, 1.0e-6,
            "4G LTE uplink, about 20 Mbit/s",
            "typical LTE uplink throughput and RTT/2; energy approx. from Huang et al., MobiSys 2012 (LTE uplink on the order of 1 uJ per byte)",
        ),
        LinkClass(
            "5g", 1.25e7, 0.01, 2.0e-7,
            "5G NR uplink, about 100 Mbit/s",
            "typical 5G NR sub-6 uplink throughput and air-interface latency; energy approx.: 2-3 W modem at 100 Mbit/s",
        ),
        LinkClass(
            "ethernet", 1.25e8, 2.0e-4, 5.0e-9,
            "Gigabit Ethernet",
            "IEEE 802.3ab (1 Gbit/s); switch + propagation latency for a LAN hop; energy approx. (a few nJ per byte)",
        ),
        LinkClass(
            "fibre-access", 1.25e8, 0.001, 2.0e-9,
            "Metro access fibre / PON, 1 Gbit/s",
            "ITU-T G.984 GPON class rate; latency for tens of km of fibre plus equipment",
        ),
        LinkClass(
            "fibre-metro", 1.25e9, 0.002, 1.0e-9,
            "Metro fibre, 10 Gbit/s",
            "10GbE metro links; about 2 ms for a few hundred km including equipment",
        ),
        LinkClass(
            "fibre-backbone", 1.25e10, 0.01, 5.0e-10,
            "Backbone fibre, 100 Gbit/s",
            "100GbE backbone; 10 ms is about 2,000 km of fibre at 2e8 m/s",
        ),
    ]
}


def link_class(name: str) -> LinkClass:
    """Look up a link class by name; ``KeyError`` names the known ones."""
    try:
        return LINK_CLASSES[name]
    except KeyError:
        raise KeyError(f"unknown link class '{name}'; known: {', '.join(LINK_CLASSES)}") from None
