"""``emg scan``: nearby sensors that match a profile."""

from __future__ import annotations

import argparse
import asyncio
import math
from typing import Any

from emg.commands.options import add_profiles_option
from emg.devices.profiles import load_profiles
from emg.errors import EmgInputError
from emg.sources.radio import Radio, match_profile


def add_radio_option(parser: argparse.ArgumentParser) -> None:
    """``--radio bleak|bumble:TRANSPORT`` and ``--profiles DIR``."""
    add_profiles_option(parser)
    parser.add_argument(
        "--radio",
        default="bleak",
        metavar="RADIO",
        help="Bluetooth stack: bleak (the system's adapter, default) or bumble:TRANSPORT "
        "(e.g. bumble:usb:0 for a USB dongle driven by bumble)",
    )


async def open_radio(spec: str) -> Radio:
    """The radio named by ``--radio``."""
    if spec == "bleak":
        from emg.sources.bleak_radio import BleakRadio

        return BleakRadio()
    if spec.startswith("bumble:") and len(spec) > len("bumble:"):
        from emg.sources.bumble_radio import BumbleRadio

        return await BumbleRadio.open(spec[len("bumble:") :])
    raise EmgInputError(
        f"unknown radio '{spec}' (bleak, or bumble:TRANSPORT)", source="command line"
    )


def add_parser(commands: Any) -> None:
    """Register ``scan``."""
    scan = commands.add_parser(
        "scan",
        help="list nearby sensors that match a profile",
        description="Scan for Bluetooth LE devices and list those that match a sensor profile "
        "(name, address, signal strength, profile). --all lists every device seen.",
    )
    scan.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="seconds to scan, above 0 (5)"
    )
    scan.add_argument("--all", action="store_true", help="also list devices without a profile")
    add_radio_option(scan)
    scan.set_defaults(handler=run_scan)


#: Longest scan or search for a stream, seconds.
MAX_SCAN_S = 600.0


def check_scan_timeout(seconds: float, option: str) -> None:
    """Refuse a scan time that is not a number of seconds above 0 and up to
    :data:`MAX_SCAN_S` (1e12 s searched for an LSL stream for ever)."""
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_SCAN_S):
        raise EmgInputError(
            f"{option}: must be a number of seconds above 0 and at most {MAX_SCAN_S:g}, "
            f"got {seconds:g}",
            source="command line",
        )


def run_scan(args: argparse.Namespace) -> int:
    """``emg scan``."""
    check_scan_timeout(args.timeout, "--timeout")
    profiles = list(load_profiles(extra=args.profiles).values())

    async def scan() -> list[Any]:
        radio = await open_radio(args.radio)
        return await radio.scan(args.timeout)

    adverts = asyncio.run(scan())
    rows = []
    for advert in sorted(adverts, key=lambda a: -(a.rssi if a.rssi is not None else -999)):
        profile = match_profile(advert, profiles)
        if profile is not None or args.all:
            rows.append((advert, profile.name if profile else "-"))
    if not rows:
        print(f"no sensors found in {args.timeout:g} s; wake them (press the button) and retry")
        return 1
    print(f"{'name':<24} {'address':<20} {'RSSI':>5}  profile")
    for advert, profile_name in rows:
        rssi = f"{advert.rssi:>5}" if advert.rssi is not None else f"{'?':>5}"
        print(f"{advert.name or '(no name)':<24} {advert.address:<20} {rssi}  {profile_name}")
    return 0
