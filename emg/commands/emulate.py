"""``emg emulate``: emulated sensors on a bumble transport, streaming the synthetic demo set."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.commands.synthetic_options import floats
from emg.devices.emulation import (
    MAX_SENSORS,
    check_emulation,
    device_mode_device,
    emulate,
    host_mode_devices,
)
from emg.devices.emulator import Impairments
from emg.devices.profiles import SensorProfile, load_profiles
from emg.devices.sample_clock import MAX_DRIFT_PPM
from emg.errors import EmgInputError, SettingError
from emg.sources.synthetic import DEMO_SET, generate_session


def add_parser(commands: Any) -> None:
    """Register ``emulate``."""
    emulate_parser = commands.add_parser(
        "emulate",
        help="emulate sensors of a profile over a Bluetooth transport (bumble)",
        description="Run emulated sensors that behave like the real ones of PROFILE "
        "(advertising, GATT service, start/stop commands, packet format), streaming the "
        "synthetic demo set (sensor 1: glute, sensor 2: hamstring, ...), with injectable "
        "packet loss, jitter, clock drift and disconnects. --transport usb:0 makes a USB "
        "Bluetooth dongle the sensor; --host-transport vhci gives the operating system's "
        "Bluetooth stack a virtual controller with the sensors in range.",
    )
    emulate_parser.add_argument("profile", metavar="PROFILE")
    where = emulate_parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--transport", metavar="T", help="bumble transport of a real controller")
    where.add_argument(
        "--host-transport", metavar="T", help="bumble transport to a Bluetooth host (e.g. vhci)"
    )
    emulate_parser.add_argument(
        "--count",
        type=int,
        default=1,
        help=f"sensors in host mode, 1 to {MAX_SENSORS}: a Bluetooth LE controller holds a "
        "handful of connections and the analysis uses at most four sensors (1)",
    )
    emulate_parser.add_argument(
        "--duration", type=float, metavar="S", help="stop after S s (above 0; default: Ctrl-C)"
    )
    emulate_parser.add_argument(
        "--loss",
        type=float,
        default=0.0,
        help="probability of losing each packet, 0 to below 1 (0)",
    )
    emulate_parser.add_argument(
        "--jitter-ms", type=float, default=0.0, help="mean extra delay of a packet, >= 0 ms (0)"
    )
    emulate_parser.add_argument(
        "--drift-ppm",
        type=float,
        default=0.0,
        help=f"sensor clock drift, -{MAX_DRIFT_PPM:g} to {MAX_DRIFT_PPM:g} ppm (0)",
    )
    emulate_parser.add_argument(
        "--disconnect-at",
        type=floats,
        default=[],
        metavar="S[,S...]",
        help="drop the link at these stream times (seconds)",
    )
    emulate_parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    emulate_parser.set_defaults(handler=run_emulate)


#: The option that gives each emulation setting, for messages.
OPTIONS = {
    "count": "--count",
    "duration_s": "--duration",
    "loss": "--loss",
    "jitter_s": "--jitter-ms",
    "drift_ppm": "--drift-ppm",
    "disconnect_at_s": "--disconnect-at",
}


def sensor_signals(profile: SensorProfile, count: int) -> list[npt.NDArray[np.float64]]:
    """The demo set at the profile's rate: sensor i gets muscle i % 2, tiled to its channels."""
    config = dataclasses.replace(DEMO_SET, fs=profile.sample_rate, sides=False)
    data = generate_session(config).recording.data.astype(np.float64)
    return [
        np.tile(data[:, i % data.shape[1]][:, None], (1, profile.channels)) for i in range(count)
    ]


def sensor_names(profile: SensorProfile, count: int) -> list[str]:
    """Advertised names matching the profile's first pattern, numbered."""
    pattern = profile.name_patterns[0] if profile.name_patterns else f"{profile.name}-*"
    return [pattern.replace("*", f"{i + 1:04d}").replace("?", "0") for i in range(count)]


def run_emulate(args: argparse.Namespace) -> int:
    """``emg emulate``."""
    profiles = load_profiles()
    if args.profile not in profiles:
        raise EmgInputError(
            f"no profile '{args.profile}' (profiles: {', '.join(profiles)})", source="command line"
        )
    profile = profiles[args.profile]
    count = args.count if args.host_transport else 1
    try:  # every value checked before anything is opened
        check_emulation(args.count, args.duration)
        impairments = [
            Impairments(
                loss=args.loss,
                jitter_s=args.jitter_ms / 1000,
                drift_ppm=args.drift_ppm,
                disconnect_at_s=tuple(args.disconnect_at),
                seed=args.seed + i,
            )
            for i in range(count)
        ]
    except SettingError as error:
        option = OPTIONS.get(error.setting, error.setting)
        raise EmgInputError(f"{option}: {error.reason}", source="command line") from None
    names = sensor_names(profile, count)
    # the signals are built before a controller is opened: a host waiting on an open
    # controller (BlueZ on /dev/vhci) must not wait for numerics
    signals = sensor_signals(profile, count)

    async def main() -> None:
        if args.host_transport:
            devices, keep = await host_mode_devices(args.host_transport, count)
        else:
            device, transport = await device_mode_device(args.transport)
            devices, keep = [device], [transport]
        ready = asyncio.Event()
        task = asyncio.create_task(
            emulate(
                profile,
                signals,
                devices,
                names,
                impairments,
                args.duration,
                ready,
            )
        )
        await ready.wait()
        print(f"emulating {', '.join(names)} ({profile.name}); Ctrl-C stops", flush=True)
        await task
        del keep

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0
