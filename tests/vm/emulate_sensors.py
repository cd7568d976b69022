"""Emulated sensors for the level (c) checks, in a process of their own, with their truth.

Like ``emg emulate --host-transport vhci`` (:func:`emg.devices.emulation.host_mode_devices`:
the sensors on an in-memory bumble link whose bridge controller BlueZ takes up through
``/dev/vhci``), but with impairments per sensor, and writing each sensor's
:class:`~emg.devices.emulator.SentLog` (what it sent, when, what was dropped) as JSON when it
stops, so the checks can compare both sides. A process of its own, as a real sensor is: its
notifications go out on time however busy the receiving process is (the VM has two CPUs).

The same process then runs the console command ``emg emulate`` for the checks of the
commands (part 2), so the VM imports bumble and the emulation once, not once per part (imports
take tens of seconds under the VM's software emulation). The command is run through its own
parser and handler, with the exit statuses of ``emg.cli.main``, without importing every other
command of the ``emg`` console script (the live window, reports, batches: none of them is
needed here).

Protocol on standard input/output: prints ``loaded`` once imported. Then, line by line:
``start`` opens the controller and prints ``ready``; while the sensors emulate, ``dump`` writes
``--log`` (the truth so far) and prints ``dumped``, and ``stop`` writes ``--log``, closes the
controller and prints ``stopped``. ``emulate ARGS...`` runs ``emg emulate ARGS...`` until
SIGINT (Ctrl-C) and then prints ``emulate exited STATUS`` (its own output comes first). The end
of input ends the process (after writing ``--log`` if the sensors were emulating).
Each sensor is given as ``--sensor NAME,LOSS,DRIFT_PPM,DISCONNECT_AT_S|-,SEED``.

Run as ``python -c "import emulate_sensors; emulate_sensors.run()"`` with this folder on the
path (as tests/vm/checks.py does), so that this file too is loaded from its precompiled
bytecode.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import bumble.controller
import bumble.device
import bumble.link
import bumble.transport.vhci

from emg.commands import emulate as emulate_command
from emg.commands.emulate import sensor_signals
from emg.devices.emulation import host_mode_devices
from emg.devices.emulator import EmulatedSensor, Impairments
from emg.devices.profiles import SensorProfile, load_profiles
from emg.errors import EmgDeviceError, EmgInputError

del bumble


def parse_sensor(spec: str) -> tuple[str, Impairments]:
    """``EMG-0001,0.02,300,-,11`` -> name and impairments."""
    name, loss, drift, drop, seed = spec.split(",")
    disconnect = () if drop == "-" else (float(drop),)
    return name, Impairments(
        loss=float(loss), drift_ppm=float(drift), disconnect_at_s=disconnect, seed=int(seed)
    )


def count_subscribers(device: Any, seen: list[int]) -> None:
    """Note to how many ATT bearers each notification goes (a diagnostic: one expected)."""
    notify = device.notify_subscribers

    async def counted(*args: Any, **kwargs: Any) -> Any:
        seen.append(len(device.gatt_server.subscribers))
        return await notify(*args, **kwargs)

    device.notify_subscribers = counted


async def line() -> str:
    """The next line of standard input ("" at its end), without blocking the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def emulate_until_stopped(
    args: argparse.Namespace, profile: SensorProfile, signals: list[Any]
) -> None:
    """Part 1: the sensors with their impairments, until ``stop`` or the end of input."""
    devices, keep = await host_mode_devices("vhci", len(args.sensor))
    epoch = time.monotonic()
    sensors = [
        EmulatedSensor(device, profile, signal, name, impairments, epoch=epoch)
        for device, signal, (name, impairments) in zip(devices, signals, args.sensor, strict=True)
    ]
    seen: list[list[int]] = [[] for _ in sensors]
    for sensor, counts in zip(sensors, seen, strict=True):
        await sensor.start()
        count_subscribers(sensor.device, counts)
    tasks = [asyncio.create_task(sensor.run()) for sensor in sensors]
    print("ready", flush=True)

    def dump() -> None:
        truth = [
            {
                "name": sensor.name,
                "rate": sensor.rate,
                "drift_ppm": sensor.impairments.drift_ppm,
                "loss": sensor.impairments.loss,
                "samples_per_notification": sensor.encoder.samples_per_notification,
                "max_subscribed_bearers": max(counts, default=0),
                "first_sample": sensor.log.first_sample,
                "n_samples": sensor.log.n_samples,
                "sample_time": sensor.log.sample_time,
                "dropped": sensor.log.dropped,
                "starts": sensor.log.starts,
                "handed_over": [None if math.isnan(t) else t for t in sensor.log.handed_over],
            }
            for sensor, counts in zip(sensors, seen, strict=True)
        ]
        args.log.write_text(json.dumps(truth))

    try:
        while (command := (await line()).strip()) not in ("stop", ""):
            if command == "dump":  # the truth so far, emulating on
                dump()
                print("dumped", flush=True)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        dump()
        await keep[0].close()


def run_emulate_command(argv: list[str]) -> int:
    """``emg emulate ARGV`` (the command's own parser and handler, the statuses of
    ``emg.cli.main``), until SIGINT."""
    parser = argparse.ArgumentParser(prog="emg")
    emulate_command.add_parser(parser.add_subparsers(dest="command", required=True))
    try:
        options = parser.parse_args(["emulate", *argv])
        status: int = options.handler(options)
    except SystemExit as exit_:  # a usage error
        status = int(exit_.code or 0)
    except KeyboardInterrupt:  # Ctrl-C before the command took it over
        status = 0
    except EmgInputError as error:
        print(f"emg: error: {error}", file=sys.stderr)
        status = 2
    except EmgDeviceError as error:
        print(f"emg: sensor error: {error}", file=sys.stderr)
        status = 3
    # the controller goes when /dev/vhci is closed: a controller left open would stay in
    # BlueZ's list of adapters (a command run after this one must be the only one)
    gc.collect()
    left = [
        int(fd)
        for fd in os.listdir("/proc/self/fd")
        if os.path.realpath(f"/proc/self/fd/{fd}") == "/dev/vhci"
    ]
    for fd in left:
        os.close(fd)
    if left:
        print(f"closed {len(left)} /dev/vhci left open by emg emulate", file=sys.stderr)
    return status


def run() -> None:
    """Load, then do as told on standard input (see the module's description)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="emg-stream-v1")
    parser.add_argument("--sensor", action="append", required=True, type=parse_sensor)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    profile = load_profiles()[args.profile]
    # the signals are built before a controller is opened (BlueZ drops a controller that
    # does not answer for about 2 s)
    signals = sensor_signals(profile, len(args.sensor))
    print("loaded", flush=True)
    while command := sys.stdin.readline():
        word, _, rest = command.strip().partition(" ")
        if word == "start":
            asyncio.run(emulate_until_stopped(args, profile, signals))
            print("stopped", flush=True)
        elif word == "emulate":
            status = run_emulate_command(shlex.split(rest))
            print(f"emulate exited {status}", flush=True)
        elif word:
            print(f"unknown command {word!r}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    run()
