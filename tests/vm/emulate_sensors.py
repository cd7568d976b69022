"""Emulated sensors for the level (c) checks, in a process of their own, with their truth.

Like ``emg emulate --host-transport vhci`` (:func:`emg.devices.emulation.host_mode_devices`:
the sensors on an in-memory bumble link whose bridge controller BlueZ takes up through
``/dev/vhci``), but with impairments per sensor, and writing each sensor's
:class:`~emg.devices.emulator.SentLog` (what it sent, when, what was dropped) as JSON when it
stops, so the checks can compare both sides. A process of its own, as a real sensor is: its
notifications go out on time however busy the receiving process is (the VM has two CPUs).

Protocol on standard input/output: prints ``loaded`` once imported; on a line ``start`` opens
the controller and prints ``ready``; on ``dump`` writes ``--log`` (the truth so far) and prints
``dumped``; on ``stop`` (or end of input) writes ``--log`` and exits.
Each sensor is given as ``--sensor NAME,LOSS,DRIFT_PPM,DISCONNECT_AT_S|-,SEED``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import bumble.controller
import bumble.device
import bumble.link
import bumble.transport.vhci

from emg.commands.emulate import sensor_signals
from emg.devices.emulation import host_mode_devices
from emg.devices.emulator import EmulatedSensor, Impairments
from emg.devices.profiles import load_profiles

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


async def main() -> None:
    """Emulate until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="emg-stream-v1")
    parser.add_argument("--sensor", action="append", required=True, type=parse_sensor)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    profile = load_profiles()[args.profile]
    signals = sensor_signals(profile, len(args.sensor))
    print("loaded", flush=True)
    if (await line()).strip() != "start":
        return
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


if __name__ == "__main__":
    asyncio.run(main())
