"""Latency of BLE acquisition: from a notification's arrival to the Block leaving the source.

Two emulated emg-stream v1 sensors (1 kHz, 10 ms packets) stream over an in-memory bumble link
to a bumble central, through the same decoders, sample clocks and assembler as the field. For
every Block the benchmark notes the arrival time of the notification that completed it (the
callback's own time stamp) and the time the Block comes out of the source's iterator: the
difference is what the acquisition adds. Also printed: the age of the oldest sample of each
Block when it leaves (what waiting for the other sensor adds), and the figures with the other
core loaded by a busy process when ``--load`` is given.

Usage: ``python benchmarks/bench_ble_latency.py [--seconds 20] [--load]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time

import numpy as np

from emg.block import Block
from emg.devices.emulation import in_memory_devices
from emg.devices.emulator import EmulatedSensor, Impairments
from emg.devices.profiles import load_profiles
from emg.sources.ble import BleSource, parse_sensor_choices, resolve_sensors
from emg.sources.bumble_radio import BumbleRadio
from emg.sources.synthetic import SynthConfig, generate_session

TARGET_MS = 5.0


def _spin(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


async def _source() -> tuple[BleSource, list[asyncio.Task[None]]]:
    """Two emulated sensors (glute, hamstring) on an in-memory link, and the central's source."""
    profile = load_profiles()["emg-stream-v1"]
    central, *peripherals = in_memory_devices(3)
    signal = generate_session(SynthConfig(reps=6, fs=profile.sample_rate)).recording.data
    epoch = time.monotonic()
    sensors = [
        EmulatedSensor(
            device,
            profile,
            signal[:, i : i + 1].astype(np.float64),
            f"EMG-000{i + 1}",
            Impairments(seed=i),
            epoch,
        )
        for i, device in enumerate(peripherals)
    ]
    for sensor in sensors:
        await sensor.start()
    tasks = [asyncio.create_task(sensor.run()) for sensor in sensors]
    await central.power_on()
    radio = BumbleRadio(central)
    adverts = await radio.scan(0.5)
    choices = parse_sensor_choices(["glute=EMG-0001", "hamstring=EMG-0002"])
    return BleSource(radio, resolve_sensors(adverts, choices, [profile])), tasks


async def measure(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Per Block: (leave time - completing arrival, leave time - oldest sample time), in ms."""
    source, tasks = await _source()
    completed_by: dict[int, float] = {}
    feed = source.assembler.feed

    def timed_feed(sensor: str, packet, arrival: float) -> list[Block]:  # type: ignore[no-untyped-def]
        blocks = feed(sensor, packet, arrival)
        for block in blocks:
            completed_by[block.start] = arrival
        return blocks

    source.assembler.feed = timed_feed  # type: ignore[method-assign]
    latency, age = [], []
    stream = source.blocks()
    async for block in stream:
        now = time.monotonic()
        if block.start in completed_by:
            latency.append((now - completed_by.pop(block.start)) * 1000)
            age.append((now - block.t0) * 1000)
        if block.stop >= seconds * source.sample_rate:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    for task in tasks:
        task.cancel()
    return np.array(latency[50:]), np.array(age[50:])


def report(label: str, latency: np.ndarray, age: np.ndarray) -> None:
    """Print the figures of one run."""
    print(
        f"{label}: {len(latency)} blocks; notification -> Block: median "
        f"{np.median(latency):.2f} ms, p95 {np.percentile(latency, 95):.2f} ms, max "
        f"{latency.max():.2f} ms (target median <= {TARGET_MS:g} ms: "
        f"{'met' if np.median(latency) <= TARGET_MS else 'not met'}); oldest sample's age "
        f"when the Block leaves: median {np.median(age):.1f} ms"
    )


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--load", action="store_true", help="also with the other core busy")
    args = parser.parse_args()
    report("idle", *asyncio.run(measure(args.seconds)))
    if args.load:
        busy = multiprocessing.Process(target=_spin, args=(time.monotonic() + args.seconds + 5,))
        busy.start()
        try:
            report("other core busy", *asyncio.run(measure(args.seconds)))
        finally:
            busy.terminate()


if __name__ == "__main__":
    main()
