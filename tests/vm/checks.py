"""Level (c) checks, run inside the test VM: unmodified bleak over real BlueZ against the
emulated sensors.

Run by ``tests/vm/run_checks.sh`` once BlueZ is up (``hci_vhci`` loaded, ``dbus-daemon
--system`` and ``bluetoothd`` running). Two parts:

1. The real stack, measured: two emulated emg-stream v1 sensors
   (:class:`~emg.devices.emulator.EmulatedSensor`, in ``tests/vm/emulate_sensors.py``, a process
   of their own as real sensors are) on an in-memory bumble link whose bridge controller BlueZ
   takes up through ``/dev/vhci``; here, the acquisition (:class:`~emg.sources.ble.BleSource` on
   :class:`~emg.sources.bleak_radio.BleakRadio`: bleak, D-Bus, bluetoothd, the kernel's HCI)
   records a session. Both sides' truth is compared: the emulator's
   :class:`~emg.devices.emulator.SentLog` (written as JSON when it stops) and what the
   acquisition decoded, its sample clocks and the recorded session. Sensor 1 loses packets and
   runs fast, sensor 2 runs slow and drops the link part-way. Both processes stamp times with
   the VM's one monotonic clock.
2. The console commands, as a user runs them: ``emg emulate --host-transport vhci`` in the
   background (run by the sensors' process of part 1, already loaded), then ``emg scan``,
   one ``emg record --source ble`` and ``emg analyze`` of the session it recorded, in this
   process (each a new process would import everything again).

Every check's outcome and figures go to ``--out`` (JSON), rewritten after each check, so a
crash or a timeout still leaves what was found, with the time each step took
(``timings_s``). The exit code is 1 if any check failed.

Run by ``run_checks.sh`` as ``import checks; checks.main()`` (this folder on the path), so
that it is loaded from the bytecode compiled on the host before boot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import itertools
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

PROFILE = "emg-stream-v1"
NAMES = ("EMG-0001", "EMG-0002")
MUSCLES = ("glute", "hamstring")
ADDRESSES = ("C0:DE:00:00:00:01", "C0:DE:00:00:00:02")
#: Injected impairments: sensor 1 loses packets and runs fast, sensor 2 runs slow and drops.
LOSS = 0.02
DRIFT_PPM = (300.0, -400.0)
SEEDS = (11, 12)
TIME_TOLERANCE_MS = 2.0
#: The stream is cut in this many parts to see how steady the stack's shortest delay is.
FLOOR_CHUNKS = 10
#: Seconds of each stream segment not checked for sample times (the clock fit's warm-up).
CLOCK_WARMUP_S = 1.0


class Results:
    """Checks and figures, written to a JSON file after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"checks": {}, "timings_s": {}, "started": time.time()}
        self.failed = False
        self.save()

    def check(self, name: str, ok: bool, detail: str = "", skip: str = "", **figures: Any) -> bool:
        """Record one check; ``skip`` says why it could not be decided on this run (then it
        neither passes nor fails)."""
        self.data["checks"][name] = {"ok": bool(ok), "detail": detail, **figures}
        if skip:
            self.data["checks"][name]["skip"] = skip
        self.failed |= not ok and not skip
        verdict = "SKIPPED" if skip else "ok" if ok else "FAILED"
        print(f"[check] {name}: {verdict} {detail} {skip}", flush=True)
        self.save()
        return bool(ok)

    def timing(self, name: str, seconds: float) -> None:
        """Record how long a step took (and this process's CPU time so far)."""
        self.data["timings_s"][name] = round(seconds, 2)
        self.data["timings_s"][f"cpu_after_{name}"] = round(time.process_time(), 2)
        self.save()

    def save(self) -> None:
        """Write the file atomically."""
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(self.data, indent=2, default=_plain))
        os.replace(temp, self.path)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


@contextlib.contextmanager
def timed(results: Results, name: str) -> Iterator[None]:
    """Time a step into the results."""
    start = time.monotonic()
    try:
        yield
    finally:
        results.timing(name, time.monotonic() - start)


# ---------------------------------------------------------------------------- BlueZ adapter


#: Seconds to wait for BlueZ to show and power the adapter of a new virtual controller: a
#: few on an idle machine, over 20 under software emulation with the host's cores busy
#: (whether it appears is the check, not how fast)
ADAPTER_TIMEOUT_S = 120.0


async def power_on_adapter(timeout_s: float = ADAPTER_TIMEOUT_S) -> str:
    """Wait for a BlueZ adapter and power it on, retrying until it accepts (it may refuse
    while it still configures itself right after it appeared). Returns its D-Bus path."""
    from dbus_fast import BusType, Message, MessageType, Variant
    from dbus_fast.aio import MessageBus

    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    deadline = time.monotonic() + timeout_s
    last = "no adapter appeared"
    try:
        while time.monotonic() < deadline:
            reply = await bus.call(
                Message(
                    destination="org.bluez",
                    path="/",
                    interface="org.freedesktop.DBus.ObjectManager",
                    member="GetManagedObjects",
                )
            )
            if reply is not None and reply.message_type == MessageType.METHOD_RETURN:
                for path, interfaces in reply.body[0].items():
                    adapter = interfaces.get("org.bluez.Adapter1")
                    if adapter is None:
                        continue
                    if adapter["Powered"].value:
                        return str(path)
                    answer = await bus.call(
                        Message(
                            destination="org.bluez",
                            path=path,
                            interface="org.freedesktop.DBus.Properties",
                            member="Set",
                            signature="ssv",
                            body=["org.bluez.Adapter1", "Powered", Variant("b", True)],
                        )
                    )
                    if answer is not None and answer.message_type == MessageType.ERROR:
                        last = f"{path}: {answer.error_name} {answer.body}"
            elif reply is not None:
                last = f"GetManagedObjects: {reply.error_name} {reply.body}"
            await asyncio.sleep(0.25)
    finally:
        bus.disconnect()
    raise RuntimeError(f"no powered Bluetooth adapter within {timeout_s:g} s ({last})")


# ---------------------------------------------------------------------------- part 1


@dataclass
class Tap:
    """What the acquisition saw of one sensor, packet by packet, per stream segment."""

    segments: list[list[tuple[int, int, int]]] = field(default_factory=lambda: [[]])
    arrivals: list[list[float]] = field(default_factory=lambda: [[]])

    def add(self, n: int, lost: int, arrival: float) -> None:
        """A decoded packet: its first sample's index in the segment, samples, lost before."""
        segment = self.segments[-1]
        index = segment[-1][0] + segment[-1][1] if segment else 0
        segment.append((index + lost, n, lost))
        self.arrivals[-1].append(arrival)

    def new_segment(self) -> None:
        """The sensor reconnected: its sample index restarts."""
        self.segments.append([])
        self.arrivals.append([])


def delivery_delays_ms(log: Any, rate: float, tap: Tap, first_segment: int = 0) -> Any:
    """Per packet received: arrival minus the true time of its last sample (ms)."""
    delays = []
    sent = _segments(log)[first_segment:]
    for entries, got, arrivals in zip(sent, tap.segments, tap.arrivals, strict=False):
        sent_at = {log.first_sample[e]: log.sample_time[e] for e in entries}
        for (index, n, _), arrival in zip(got, arrivals, strict=True):
            if index in sent_at:
                delays.append((arrival - (sent_at[index] + (n - 1) / rate)) * 1000)
    return np.array(delays)


def delay_parts_ms(log: Any, rate: float, tap: Tap, first_segment: int = 0) -> Any:
    """Per packet received, its delivery delay in two parts (ms, columns): how late the
    emulator handed it to its controller after its last sample was taken, and how long the
    stack then took to deliver it."""
    parts = []
    sent = _segments(log)[first_segment:]
    handed = getattr(log, "handed_over", None) or [None] * len(log.first_sample)
    for entries, got, arrivals in zip(sent, tap.segments, tap.arrivals, strict=False):
        at = {log.first_sample[e]: (log.sample_time[e], handed[e]) for e in entries}
        for (index, n, _), arrival in zip(got, arrivals, strict=True):
            if index in at and at[index][1] is not None:
                last = at[index][0] + (n - 1) / rate
                parts.append(((at[index][1] - last) * 1000, (arrival - at[index][1]) * 1000))
    return np.array(parts).reshape(-1, 2)


def _segments(log: Any) -> list[range]:
    """Entry ranges of each stream (from one START to the next) in an emulator's SentLog."""
    bounds = [*log.starts, len(log.first_sample)]
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


def accounting(log: Any, tap: Tap) -> dict[str, Any]:
    """Compare what a sensor sent with what the acquisition received or reported lost.

    Per stream segment, up to the last packet received: every sample sent is received or
    reported lost, the packets reported lost are exactly the ones the emulator dropped, and
    the received ones are exactly the ones it did not drop.
    """
    sent_entries = _segments(log)
    figures: dict[str, Any] = {
        "segments_sent": len(sent_entries),
        "segments_received": len(tap.segments),
        "sent": 0,
        "received": 0,
        "lost_detected": 0,
        "lost_injected": 0,
        "dropped_packets": 0,
        "after_last_received": 0,
        "mismatches": [],
    }
    if len(sent_entries) != len(tap.segments):
        figures["mismatches"].append("segment count differs")
    for number, (entries, got) in enumerate(zip(sent_entries, tap.segments, strict=False)):
        if not got:
            figures["mismatches"].append(f"segment {number}: nothing received")
            continue
        last_index = got[-1][0]
        upto = [e for e in entries if log.first_sample[e] <= last_index]
        tail = [e for e in entries if log.first_sample[e] > last_index]
        figures["after_last_received"] += sum(log.n_samples[e] for e in tail)
        kept = {(log.first_sample[e], log.n_samples[e]) for e in upto if not log.dropped[e]}
        dropped = [e for e in upto if log.dropped[e]]
        received = {(index, n) for index, n, _ in got}
        injected = sum(log.n_samples[e] for e in dropped)
        detected = sum(lost for _, _, lost in got)
        sent = sum(log.n_samples[e] for e in upto)
        figures["sent"] += sent
        figures["received"] += sum(n for _, n, _ in got)
        figures["lost_detected"] += detected
        figures["lost_injected"] += injected
        figures["dropped_packets"] += len(dropped)
        if received != kept:
            figures["mismatches"].append(
                f"segment {number}: {len(received - kept)} packets received that were not "
                f"sent as such, {len(kept - received)} sent and not received"
            )
        if detected != injected:
            figures["mismatches"].append(
                f"segment {number}: {detected} samples reported lost, {injected} dropped"
            )
        if sum(n for _, n, _ in got) + detected != sent:
            figures["mismatches"].append(f"segment {number}: received + lost != sent")
    return figures


def time_errors_ms(
    log: Any, rate: float, clocks: list[Any], tap: Tap, first_segment: int = 0
) -> list[Any]:
    """Per stream segment: the acquisition's sample times minus the emulator's true ones (ms,
    signed), past each segment's clock warm-up and up to its last packet received. The tap's
    first segment is the log's ``first_segment``."""
    out: list[Any] = []
    sent = _segments(log)[first_segment:]
    for number, (entries, clock) in enumerate(zip(sent, clocks, strict=False)):
        received = tap.segments[number] if number < len(tap.segments) else []
        if not received or not clock.ready:
            out.append(np.zeros(0))
            continue
        last = received[-1][0] + received[-1][1]
        index = np.concatenate([log.first_sample[e] + np.arange(log.n_samples[e]) for e in entries])
        truth = np.concatenate(
            [log.sample_time[e] + np.arange(log.n_samples[e]) / rate for e in entries]
        )
        keep = (truth - truth[0] >= CLOCK_WARMUP_S) & (index < last)
        out.append((clock.times_of(index[keep].astype(float)) - truth[keep]) * 1000)
    return out


def _ms(value: float) -> float:
    return round(float(value), 3)


def with_batch_limit(profile: Any, batch_limit: int | None) -> Any:
    """The profile, its START sequence sending SET_BATCH_LIMIT ``batch_limit`` (0: as many
    samples per notification as the MTU allows) instead of the profile's own."""
    if batch_limit is None:
        return profile
    start = tuple(c for c in profile.start if not c.startswith(b"\x06"))
    return dataclasses.replace(profile, start=(bytes([6, batch_limit]), *start))


def profile_folder(work: Path, batch_limit: int | None) -> list[str]:
    """``--profiles DIR`` options giving the console commands the profile with the START
    sequence of :func:`with_batch_limit` (as a user on a slow computer would write it), or
    none when ``batch_limit`` is None."""
    if batch_limit is None:
        return []
    from emg.devices.profiles import load_profiles

    shipped = load_profiles()[PROFILE]
    start = with_batch_limit(shipped, batch_limit).start
    text, n = re.subn(
        r"^start = \[[^\]]*\]",
        "start = [" + ", ".join(f'"{c.hex(" ")}"' for c in start) + "]",
        shipped.path.read_text(),
        count=1,
        flags=re.MULTILINE,
    )
    if n != 1:
        raise RuntimeError(f"no start sequence in {shipped.path}")
    folder = work / "profiles"
    folder.mkdir(exist_ok=True)
    (folder / shipped.path.name).write_text(text)
    return ["--profiles", str(folder)]


class SensorProcess:
    """The emulated sensors in a process of their own (tests/vm/emulate_sensors.py), loaded
    early: part 1's sensors with their impairments (their truth comes back as JSON), then, in
    the same process, part 2's ``emg emulate`` (see :class:`Emulator`)."""

    def __init__(self, work: Path, disconnect_at_s: float, attempt: int = 1) -> None:
        self.log_path = work / f"sensors-truth-{attempt}.json"
        self.stderr = (work / f"sensors-{attempt}.log").open("w")
        drop = f"{disconnect_at_s:g}"
        specs = [
            f"{NAMES[0]},{LOSS:g},{DRIFT_PPM[0]:g},-,{SEEDS[0]}",
            f"{NAMES[1]},0,{DRIFT_PPM[1]:g},{drop},{SEEDS[1]}",
        ]
        # imported as a module, not run as a script, so that it is loaded from its
        # precompiled bytecode too
        folder = str(Path(__file__).parent)
        load = f"import sys; sys.path.insert(0, {folder!r}); import emulate_sensors; "
        load += "emulate_sensors.run()"
        command = [sys.executable, "-u", "-c", load, "--log", str(self.log_path)]
        for spec in specs:
            command += ["--sensor", spec]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.loaded = False
        self.emulating = False  # part 1's sensors

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            self.lines.put(text)
        self.lines.put("")  # the process ended

    def say(self, words: str) -> None:
        """One line to the process."""
        assert self.process.stdin is not None
        self.process.stdin.write(words + "\n")
        self.process.stdin.flush()

    def next_line(self, timeout_s: float) -> str:
        """The process's next line of output ("" when it ended or said nothing in time)."""
        try:
            return self.lines.get(timeout=timeout_s)
        except queue.Empty:
            return ""

    def _expect(self, word: str, timeout_s: float = 600.0) -> None:
        got = self.next_line(timeout_s).strip()
        if got != word:
            raise RuntimeError(f"the emulated sensors said {got!r}, not {word!r} (sensors-*.log)")

    def wait_loaded(self) -> None:
        """Wait until it has imported what it needs."""
        if not self.loaded:
            self._expect("loaded")
            self.loaded = True

    async def start(self) -> None:
        """Open the controller and start advertising."""
        await asyncio.to_thread(self.wait_loaded)
        self.say("start")
        self.emulating = True
        await asyncio.to_thread(self._expect, "ready", 120.0)

    def _truth(self) -> list[Any]:
        if not self.log_path.exists():
            return []
        return [SimpleNamespace(**t) for t in json.loads(self.log_path.read_text())]

    async def dump(self) -> list[Any]:
        """The truth of every sensor so far (attributes as in SentLog, plus rate ...); they
        go on emulating."""
        self.say("dump")
        await asyncio.to_thread(self._expect, "dumped", 120.0)
        return self._truth()

    def stop(self) -> list[Any]:
        """Stop part 1's sensors and close their controller (the process stays, for part 2);
        the truth of every sensor."""
        if self.emulating and self.process.poll() is None:
            self.emulating = False
            with contextlib.suppress(BrokenPipeError):
                self.say("stop")
            with contextlib.suppress(RuntimeError):
                self._expect("stopped", 60.0)
        return self._truth()

    def close(self) -> None:
        """End the process."""
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


async def open_controller(
    results: Results, sensors: SensorProcess, work: Path, disconnect_at_s: float
) -> tuple[SensorProcess, str]:
    """The emulated sensors behind a vhci controller that BlueZ has taken up and powered on;
    if BlueZ did not take it up, the sensors are started again, once."""
    for attempt in (1, 2):
        try:
            await sensors.start()
            return sensors, await power_on_adapter()
        except RuntimeError as error:
            results.data.setdefault("retries", []).append(f"sensors attempt {attempt}: {error}")
            sensors.close()
            if attempt == 2:
                raise
            sensors = SensorProcess(work, disconnect_at_s, attempt + 1)
    raise AssertionError("unreachable")


def preload() -> None:
    """Import what the checks use before any controller is live (imports hold up the event
    loop for seconds under software emulation)."""
    import bleak
    import dbus_fast.aio
    from bleak.backends.bluezdbus import client, manager, scanner

    import emg.analysis.pipeline
    import emg.cli
    import emg.io.open_recording
    import emg.session
    import emg.sources.ble
    import emg.sources.bleak_radio

    del bleak, dbus_fast, client, manager, scanner, emg


@dataclass
class StreamRun:
    """One acquisition run through bleak: what it saw, per sensor."""

    source: Any
    taps: dict[str, Tap]
    clocks: dict[str, list[Any]]
    noted: list[Any]
    stopped_by: str
    wall: float
    #: every sensor status change: (wall seconds since the stream began, sensor, state, detail)
    statuses: list[tuple[float, str, str, str]] = field(default_factory=list)


#: Seconds of samples the acquisition may be behind the sensors when a stream ends, for a
#: reconnect to be judged (further behind, the VM never got to it).
MAX_BEHIND_S = 5.0
#: Seconds the Bluetooth stack may go without delivering a packet of the sensor that kept its
#: link (it sends one every 117 ms or so), for a reconnect to be judged: the VM froze the
#: whole stack for longer than that (9 s at a time seen on CI, when no reconnect got an
#: answer), and a reconnect that did not happen on such a run says how slow the VM was.
MAX_STALL_S = 3.0
#: Seconds of samples a sensor that dropped its link must have in the recording, unmasked to
#: its end, after it reconnected, before a stream that waits for it ends. Counted in the
#: recording, not in what it delivered: where the VM runs the emulated sensors slower than real
#: time, their clocks fall behind the host's, and the one that reconnected is placed (by its
#: new arrival times) seconds after what the recording holds so far.
SETTLE_S = 5.0
#: A stream that waits for a reconnect ends at the latest after this many times its length.
LONGEST_FACTOR = 2.5


async def stream_for(
    radio: Any,
    resolved: Any,
    folder: Path | None,
    stream_s: float,
    await_reconnect: str | None = None,
    longest_s: float | None = None,
) -> StreamRun:
    """Connect the sensors and stream ``stream_s`` of samples through a live session (as
    ``emg record`` does), recording into ``folder`` (None: analysis only).

    With ``await_reconnect`` (a muscle whose sensor drops its link part-way), the stream goes
    on past ``stream_s`` until that sensor has reconnected and the recording has held its
    samples, unmasked, for the last :data:`SETTLE_S`, up to ``longest_s`` of samples: how long
    a reconnect takes through BlueZ depends on how fast this VM runs, whether it happens does
    not."""
    from emg.analysis.pipeline import AnalysisConfig
    from emg.session import LiveSession, run_session
    from emg.sources.ble import BleSource

    source = BleSource(radio, resolved)
    taps = {m: Tap() for m in MUSCLES}
    clocks: dict[str, list[Any]] = {m: [] for m in MUSCLES}
    noted: list[Any] = []
    statuses: list[tuple[float, str, str, str]] = []
    began = time.monotonic()
    on_packets, on_status = source._on_packets, source._on_status

    def tap_packets(name: str, packets: list[Any], arrival: float) -> None:
        for packet in packets:
            taps[name].add(int(packet.samples.shape[0]), int(packet.lost), arrival)
        on_packets(name, packets, arrival)

    def tap_status(name: str, state: str, detail: str) -> None:
        statuses.append((round(time.monotonic() - began, 2), name, state, detail[:200]))
        if state == "reconnected":
            clocks[name].append(source.assembler.clock(name))  # before it is replaced
            taps[name].new_segment()
        on_status(name, state, detail)

    source._on_packets = tap_packets  # type: ignore[method-assign]
    source._on_status = tap_status  # type: ignore[method-assign]
    live = LiveSession(
        source.channels,
        source.sample_rate,
        AnalysisConfig(),
        folder,
        {"source": "ble", "note": "level (c) check"},
        keep_events=True,
    )

    def note(events: list[Any]) -> None:
        noted.extend(events)
        live.note(events)

    source.on_event = note
    rate = source.sample_rate
    limit = round(stream_s * rate)
    longest = max(limit, round((longest_s or stream_s) * rate))

    waited = [i for i, c in enumerate(source.channels) if c.label == await_reconnect]
    recorded_run = 0  # samples at the recording's end where the awaited sensor is unmasked

    def settled(block: Any) -> bool:
        nonlocal recorded_run
        if await_reconnect is None:
            return True
        n = block.data.shape[0]
        lost = block.lost[:, waited].any(axis=1) if block.lost.size else np.zeros(n, bool)
        masked = np.flatnonzero(lost)
        recorded_run = lost.size - 1 - int(masked[-1]) if masked.size else recorded_run + lost.size
        reconnected = len(taps[await_reconnect].segments) > 1
        return reconnected and recorded_run >= SETTLE_S * rate

    async def until_settled() -> Any:
        blocks = source.blocks()
        try:
            async for block in blocks:
                yield block
                done = settled(block)
                if block.stop >= longest or (block.stop >= limit and done):
                    return
        finally:
            close = getattr(blocks, "aclose", None)
            if close is not None:  # disconnect the sensors now
                await close()

    started = time.monotonic()
    stopped_by = await run_session(until_settled(), live)
    if stopped_by == "end of source" and live.n_samples >= limit:
        stopped_by = "duration"
    wall = time.monotonic() - started
    if len(source.streams) == len(MUSCLES):
        for m in MUSCLES:
            clocks[m].append(source.assembler.clock(m))
    return StreamRun(source, taps, clocks, noted, stopped_by, wall, statuses)


def timing_figures(
    truth: list[Any], run: StreamRun, latest: bool, stream_s: float, save: Path
) -> dict[str, Any]:
    """Sample times against the truth, after drift correction.

    Arrival times are all a packet's receiver knows, so every estimate is late by the stack's
    shortest delivery delay (the sample clock's documented offset, the same for every sensor
    on one host and radio): the check is on the times less that one common offset, which is
    reported. And the clock cannot be closer to the truth than that shortest delay is steady:
    where it wandered by more than the tolerance (the VM's software emulation slowed down for
    seconds), 2 ms cannot be decided on this run (``skip`` says so).
    """
    taps, clocks = run.taps, run.clocks
    # the run's segments are the truth's first ones, or (``latest``) its last ones
    first = {
        m: len(_segments(truth[i])) - len(taps[m].segments) if latest else 0
        for i, m in enumerate(MUSCLES)
    }
    errors = {
        m: time_errors_ms(truth[i], truth[i].rate, clocks[m], taps[m], first[m])
        for i, m in enumerate(MUSCLES)
    }
    every = np.concatenate([e for segs in errors.values() for e in segs] or [np.zeros(0)])
    checked = {m: int(sum(e.size for e in segs)) for m, segs in errors.items()}
    offset = float(np.median(every)) if every.size else float("nan")
    residual = float(np.abs(every - offset).max()) if every.size else float("nan")
    per_segment = {
        m: [
            {
                "segment": k,
                "checked": int(e.size),
                "median_ms": _ms(np.median(e)) if e.size else None,
                "max_abs_ms": _ms(np.abs(e).max()) if e.size else None,
                "max_abs_less_offset_ms": _ms(np.abs(e - offset).max()) if e.size else None,
            }
            for k, e in enumerate(segs)
        ]
        for m, segs in errors.items()
    }
    delays = {
        m: delivery_delays_ms(truth[i], truth[i].rate, taps[m], first[m])
        for i, m in enumerate(MUSCLES)
    }
    np.savez(
        save,
        **{f"{m}_delay_ms": d for m, d in delays.items()},
        **{
            f"{m}_packets_{k}": np.array([(i, n, a) for (i, n, _), a in zip(got, arr, strict=True)])
            for m in MUSCLES
            for k, (got, arr) in enumerate(zip(taps[m].segments, taps[m].arrivals, strict=True))
        },
        **{f"{m}_error_ms_{k}": e for m, segs in errors.items() for k, e in enumerate(segs)},
    )
    floors = {
        m: [float(chunk.min()) for chunk in np.array_split(d, FLOOR_CHUNKS)]
        for m, d in delays.items()
        if d.size >= FLOOR_CHUNKS
    }
    parts = {
        m: delay_parts_ms(truth[i], truth[i].rate, taps[m], first[m]) for i, m in enumerate(MUSCLES)
    }
    part_floors = {
        m: {
            name: [_ms(chunk[:, column].min()) for chunk in np.array_split(p, FLOOR_CHUNKS)]
            for column, name in enumerate(("emulator_late", "stack"))
        }
        for m, p in parts.items()
        if len(p) >= FLOOR_CHUNKS
    }
    wander = {m: _ms(max(f) - min(f)) for m, f in floors.items()}
    # how far the emulated sensors themselves fell behind their own sample clock, in the VM
    behind = {
        m: _ms(max(p["emulator_late"]) - min(p["emulator_late"])) for m, p in part_floors.items()
    }
    steady = len(wander) == 2 and max(wander.values()) <= TIME_TOLERANCE_MS
    n = round(stream_s * 1000)
    max_raw = _ms(np.abs(every).max()) if every.size else None
    verdict = bool(
        every.size > 0
        and residual < TIME_TOLERANCE_MS
        and 0 <= offset < 100
        and all(c > 0.5 * n for c in checked.values())
    )
    return {
        "verdict": verdict,
        "detail": f"max error {_ms(residual)} ms after drift correction, less the stack's fixed "
        f"delivery delay of {_ms(offset)} ms common to both sensors (max raw error {max_raw} "
        f"ms), over {checked} samples",
        # an unsteady VM can only excuse an error above the tolerance, never hide a pass
        "skip": ""
        if steady or verdict
        else f"the VM delivered too unevenly to measure 2 ms: the shortest delivery delay per "
        f"{stream_s / FLOOR_CHUNKS:.0f} s wandered by {wander} ms (more than "
        f"{TIME_TOLERANCE_MS:g} ms; of that, the emulated sensors themselves, handing their "
        f"packets over late, wandered by {behind} ms); max error {_ms(residual)} ms",
        "max_error_ms": _ms(residual),
        "common_delay_ms": _ms(offset),
        "max_raw_error_ms": max_raw,
        "delivery_delay_ms": {
            m: {q: _ms(np.percentile(d, p)) for q, p in (("min", 0), ("median", 50), ("p95", 95))}
            | {"max": _ms(d.max())}
            for m, d in delays.items()
            if d.size
        },
        "delivery_floor_ms": {m: [_ms(v) for v in f] for m, f in floors.items()},
        "floor_wander_ms": wander,
        "delivery_floor_parts_ms": part_floors,
        "segments": per_segment,
    }


async def part_one(
    results: Results,
    work: Path,
    stream_s: float,
    disconnect_at_s: float,
    batch_limit: int | None,
    processes: Processes,
    timing_retries: int = 1,
) -> None:
    """bleak acquisition through BlueZ against the emulated sensors of another process."""
    from emg.devices.profiles import load_profiles
    from emg.io.open_recording import open_recording
    from emg.sources.ble import parse_sensor_choices, resolve_sensors
    from emg.sources.bleak_radio import BleakRadio
    from emg.sources.radio import match_profile

    profile = with_batch_limit(load_profiles()[PROFILE], batch_limit)
    with timed(results, "vhci_controller_and_adapter"):
        sensor_process, adapter = await open_controller(
            results, processes.sensors, work, disconnect_at_s
        )
        processes.sensors = sensor_process
    results.check("adapter_powered", True, adapter)
    sensors: list[Any] = []
    try:
        radio = BleakRadio()
        with timed(results, "scan"):
            adverts = await radio.scan(4.0)
        seen = {
            a.name: (a.address, getattr(match_profile(a, [profile]), "name", None)) for a in adverts
        }
        expected = {n: (a, PROFILE) for n, a in zip(NAMES, ADDRESSES, strict=True)}
        results.check(
            "scan_finds_both_sensors",
            all(seen.get(n) == v for n, v in expected.items()),
            f"seen {seen}",
            seen=seen,
        )
        choices = parse_sensor_choices([f"{m}={n}" for m, n in zip(MUSCLES, NAMES, strict=True)])
        resolved = resolve_sensors(adverts, choices, [profile])
        stream_started = time.monotonic()
        with timed(results, "connect_and_stream"):
            run = await stream_for(
                radio,
                resolved,
                work / "stack-session",
                stream_s,
                MUSCLES[1],
                LONGEST_FACTOR * stream_s,
            )
        source, taps, noted = run.source, run.taps, run.noted
        stopped_by, wall, folder = run.stopped_by, run.wall, work / "stack-session"
        sensors = await sensor_process.dump()
        if len(sensors) != 2:
            raise RuntimeError("the emulated sensors left no truth log (sensors-*.log)")
        connected = len(source.streams) == 2
        results.check(
            "connect_both",
            connected,
            f"{len(source.streams)} sensors streamed",
            addresses=[s.address for s in source.streams],
        )
        recording = open_recording(folder)
        n = recording.n_samples
        # 30 s, or longer (up to 75 s) where the VM took longer to reconnect the sensor that
        # dropped its link, or to place its samples again (disconnect_survived)
        results.check(
            "stream_30s_at_1khz",
            stopped_by == "duration"
            and recording.sample_rate == 1000.0
            and round(stream_s * 1000) <= n <= round(LONGEST_FACTOR * stream_s * 1000) + 1000
            and [c.label for c in recording.channels] == list(MUSCLES),
            f"{n} samples at {recording.sample_rate:g} Hz in {wall:.1f} s wall ({stopped_by})",
            samples=n,
            sample_rate=recording.sample_rate,
            wall_s=round(wall, 2),
            samples_per_notification=[s.samples_per_notification for s in sensors],
        )
        # every sample accounted for, injected loss detected exactly
        figures = {}
        for index, m in enumerate(MUSCLES):
            figures[m] = accounting(sensors[index], taps[m])
            stats = source.assembler.stats(m)
            figures[m]["assembler"] = {
                "received": stats.received,
                "lost_in_transit": stats.lost_in_transit,
                "late": stats.late,
                "output_valid": stats.output_valid,
                "output_lost": stats.output_lost,
            }
            figures[m]["max_subscribed_bearers"] = sensors[index].max_subscribed_bearers
            if connected:  # payloads the decoder refused (e.g. notifications delivered twice)
                stream_stats = source.streams[index].decoder.stats
                figures[m]["refused"] = stream_stats.malformed
                figures[m]["last_refusal"] = stream_stats.last_error
            lost_mask = recording.lost[:, index]
            figures[m]["recording"] = {
                "valid": int((~lost_mask).sum()),
                "masked": int(lost_mask.sum()),
            }
        grid_ok = all(
            f["assembler"]["received"] == f["received"]
            and f["assembler"]["lost_in_transit"] == f["lost_detected"]
            and f["recording"]["valid"] + f["recording"]["masked"] == n
            for f in figures.values()
        )
        results.check(
            "every_sample_accounted",
            grid_ok
            and all(
                f["received"] + f["lost_detected"] == f["sent"] and f["sent"] > 0
                for f in figures.values()
            ),
            "; ".join(
                f"{m}: sent {f['sent']} = received {f['received']} + lost {f['lost_detected']}"
                f" (+{f['after_last_received']} sent after the last packet received of a "
                f"segment); recording {f['recording']['valid']} valid + "
                f"{f['recording']['masked']} masked = {n}"
                for m, f in figures.items()
            ),
            sensors=figures,
        )
        glute = figures["glute"]
        results.check(
            "injected_loss_detected_exactly",
            glute["lost_injected"] > 0
            and all(
                not f["mismatches"] and f["lost_detected"] == f["lost_injected"]
                for f in figures.values()
            ),
            "; ".join(
                f"{m}: detected {f['lost_detected']} lost samples, injected {f['lost_injected']}"
                f" ({f['dropped_packets']} packets) {' '.join(f['mismatches'])}"
                for m, f in figures.items()
            ),
            glute_injected=glute["lost_injected"],
            glute_detected=glute["lost_detected"],
        )
        # sample times after drift correction; measured again (once) on a second stream
        # if the VM delivered too unevenly on the first to decide
        timing = timing_figures(sensors, run, False, stream_s, work / "stack-times.npz")
        attempts = [timing]
        # the second stream only if it leaves the time the rest needs (about as long again
        # as this stream took, on this VM), so the batch always ends inside its budget
        stream_cost = time.monotonic() - stream_started
        time_left = processes.deadline - time.monotonic()
        retry = bool(timing["skip"]) and timing_retries > 0
        if retry and time_left < 2.5 * stream_cost:
            results.data["timing_retry_skipped"] = (
                f"{time_left:.0f} s left of the budget, a stream took {stream_cost:.0f} s here"
            )
            retry = False
        if retry:
            with timed(results, "timing_retry_stream"):
                again = await stream_for(radio, resolved, None, stream_s)
            truth = await sensor_process.dump()
            timing = timing_figures(truth, again, True, stream_s, work / "stack-times-2.npz")
            attempts.append(timing)
        verdict = timing.pop("verdict")
        results.check(
            "sample_times_within_2ms",
            verdict,
            timing.pop("detail"),
            skip=timing.pop("skip"),
            **timing,
            attempts=[
                {k: t.get(k) for k in ("max_error_ms", "floor_wander_ms", "common_delay_ms")}
                for t in attempts
            ],
        )
        # the forced disconnect of sensor 2: one masked stretch where the link dropped, then
        # its samples again to the end of the recording (a VM stall longer than the
        # assembler's latency may mask a few more: at least 95 % valid), the other sensor on
        kinds = [(e.kind, e.channel) for e in noted]
        hamstring = source.streams[1].status if connected else None
        lost_h = recording.lost[:, 1].astype(int)
        edges = np.diff(np.concatenate(([0], lost_h, [0])))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        inside = starts > 500  # not the start (the second sensor starts streaming later)
        starts, stops = starts[inside], stops[inside]
        longest = int(np.argmax(stops - starts)) if starts.size else -1
        gap = (int(starts[longest]), int(stops[longest])) if longest >= 0 else (0, 0)
        after = lost_h[gap[1] :]
        valid_after = float(1 - after.mean()) if after.size else 0.0
        valid_glute = float(1 - recording.lost[500:, 0].mean())
        # its link drops at disconnect_at_s of its own stream, which began when it first
        # delivered (later than the recording's start on a slow VM: connects are serial; up
        # to a second before it, as the recording starts with the first sensor's data)
        first_valid = int(np.argmax(lost_h == 0)) if (lost_h == 0).any() else 0
        dropped = (
            "disconnect" in {k for k, _ in kinds}
            and (disconnect_at_s - 1) * 1000 <= gap[0] <= first_valid + (disconnect_at_s + 3) * 1000
            and valid_glute >= 0.95
            and recording.metadata.get("status") == "complete"
        )
        reconnected = (
            hamstring is not None
            and hamstring.reconnects == 1
            and "reconnect" in {k for k, _ in kinds}
            # in the recording for the last 3 s at least (the stream ends once the recording
            # has held it for SETTLE_S again, or at its longest)
            and gap[1] <= n - 3000
            and valid_after >= 0.95
        )
        # a VM that ran far slower than real time (the acquisition still that far behind the
        # sensor that kept its link when the stream ended) never got to the reconnect: that
        # cannot be decided on this run (skipped with the figures), never passed; nor can
        # where the drop began, when a stall masked the samples before it
        behind_s = glute["after_last_received"] / 1000
        stall_s = max(
            (float(np.diff(a).max()) for a in taps["glute"].arrivals if len(a) > 1), default=0.0
        )
        too_slow = behind_s > MAX_BEHIND_S or stall_s > MAX_STALL_S
        results.check(
            "disconnect_survived",
            dropped and reconnected,
            f"hamstring reconnects {getattr(hamstring, 'reconnects', None)}; its link dropped at "
            f"{gap[0] / 1000:.2f} s of the recording, masked until {gap[1] / 1000:.2f} s, then "
            f"{valid_after:.1%} of its samples valid to the end (its first at "
            f"{first_valid / 1000:.2f} s); glute {valid_glute:.1%} valid; "
            f"when the stream ended the acquisition was {behind_s:.1f} s of samples behind; "
            f"the stack went {stall_s:.1f} s at most without delivering the glute's packets",
            skip=""
            if reconnected or not too_slow
            else f"the VM ran too far behind real time to see the reconnect: {n / 1000:.0f} s of "
            f"samples took {wall:.0f} s, when the stream ended the acquisition was "
            f"{behind_s:.0f} s of samples behind the sensors (at most {MAX_BEHIND_S:g} s "
            f"judged), and the stack went {stall_s:.1f} s at a time without delivering the "
            f"sensor that kept its link (at most {MAX_STALL_S:g} s judged); "
            + (
                "the link drop itself was handled (masked, the other sensor on)"
                if dropped
                else "the masked stretch began before the planned drop (a stall of the VM)"
            ),
            behind_s=round(behind_s, 2),
            stall_s=round(stall_s, 2),
            events=sorted({k for k, _ in kinds}),
            gap_s=[gap[0] / 1000, gap[1] / 1000],
            valid_after_gap=round(valid_after, 4),
            valid_glute=round(valid_glute, 4),
            recording_status=recording.metadata.get("status"),
            statuses=[st for st in run.statuses if st[2] != "battery"][:40],
        )
    finally:
        sensor_process.stop()


@dataclass
class Processes:
    """The emulated sensors' process (shared by both parts) and when the batch must end
    (``time.monotonic()``)."""

    sensors: SensorProcess
    deadline: float


#: ``emg emulate`` for the console commands: both sensors lose 1 % and drop the link at 4 s.
EMULATE = [PROFILE, "--host-transport", "vhci", "--count", "2", "--loss", "0.01"]
EMULATE += ["--disconnect-at", "4", "--duration", "600"]


class Emulator:
    """``emg emulate`` run by the emulated sensors' process (loaded early, and already used by
    part 1: the VM imports bumble and the emulation once)."""

    def __init__(self, processes: Processes, work: Path) -> None:
        self.processes = processes
        self.work = work
        self.running = False

    def go(self) -> str:
        """Start ``emg emulate``; its first line of output (or why there is none)."""
        sensors = self.processes.sensors
        if sensors.process.poll() is not None:  # part 1 ended it: a new one
            sensors = self.processes.sensors = SensorProcess(self.work, 0.0, attempt=9)
        try:
            sensors.wait_loaded()
        except RuntimeError as error:
            return str(error)
        sensors.say(f"emulate {shlex.join(EMULATE)}")
        self.running = True
        line = sensors.next_line(300.0)
        if line.startswith("emulate exited"):
            self.running = False
        return line or "no output within 300 s"

    def stop(self) -> str:
        """Stop it as Ctrl-C does; what it said when it ended."""
        sensors = self.processes.sensors
        if not self.running or sensors.process.poll() is not None:
            return ""
        self.running = False
        sensors.process.send_signal(signal.SIGINT)
        said = []
        while line := sensors.next_line(60.0):
            said.append(line.strip())
            if line.startswith("emulate exited"):
                return " | ".join(said)
        sensors.close()  # it did not end on Ctrl-C
        return " | ".join([*said, "did not end within 60 s of Ctrl-C: process ended"])


def emg_command(
    work: Path, name: str, *args: str, stop_when: Callable[[str], bool] | None = None
) -> tuple[int, str, str]:
    """``emg ARGS`` as the console script runs it (``emg.cli.main``), in this process (a new
    process would spend half a minute importing); output kept in ``cli-NAME.log``.

    With ``stop_when``, the command is stopped as Ctrl-C stops it once ``stop_when`` is true of
    its output so far (polled from a second thread; the signal is handled in this one).
    """
    from emg.cli import main

    out, err = io.StringIO(), io.StringIO()
    finished = threading.Event()
    lock = threading.Lock()

    def watch(stop_when: Callable[[str], bool]) -> None:
        while not finished.wait(0.2):
            if stop_when(out.getvalue()):
                with lock:  # never after the command returned
                    if not finished.is_set():
                        os.kill(os.getpid(), signal.SIGINT)
                return

    # a Ctrl-C that comes after the command has put its own handlers back is ignored
    previous = signal.signal(signal.SIGINT, lambda number, frame: None)
    watcher = None
    try:
        if stop_when is not None:
            watcher = threading.Thread(target=watch, args=(stop_when,), daemon=True)
            watcher.start()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            finally:
                with lock:
                    finished.set()
        if watcher is not None:
            watcher.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    (work / f"cli-{name}.log").write_text(
        f"$ emg {' '.join(args)}\n{out.getvalue()}\n{err.getvalue()}"
    )
    return code, out.getvalue(), err.getvalue()


def start_emulator(results: Results, emulator: Emulator) -> tuple[str, str]:
    """Start ``emg emulate`` and have BlueZ take its controller up (once more if it did not):
    its first line and the adapter (empty: none)."""
    line = emulator.go()
    adapter = ""
    for attempt in (1, 2):
        if "emulating EMG-0001, EMG-0002" not in line:
            break
        try:
            adapter = asyncio.run(power_on_adapter())
            break
        except RuntimeError as error:  # BlueZ did not take the controller up: once more
            results.data.setdefault("retries", []).append(f"emulate {attempt}: {error}")
            emulator.stop()
            if attempt == 2:
                break
            line = emulator.go()
    return line, adapter


#: Seconds of samples ``emg record`` may go on for after the drop at 4 s, waiting for both
#: sensors to reconnect: how long a reconnect takes through BlueZ depends on how fast the VM
#: runs (33 s seen in part 1, with a connect that stopped answering and was made again),
#: whether it happens does not.
RECONNECT_WAIT_S = 60.0
#: Wall seconds ``emg record`` goes on after both sensors reconnected, before it is stopped as
#: Ctrl-C stops it.
AFTER_RECONNECT_S = 3.0


def reconnected_by(out: str) -> dict[str, float]:
    """Stream time of each sensor's ``reconnect`` line in ``emg record``'s output."""
    found = re.findall(r"^\s*([0-9.]+) s: reconnect (\w+)", out, flags=re.MULTILINE)
    return {name: float(at) for at, name in found if name in MUSCLES}


def record_once(
    work: Path, log_name: str, sessions: Path, record_s: float, profiles: list[str]
) -> tuple[bool, str, dict[str, Any]]:
    """``emg record --source ble`` into ``sessions`` (``profiles``: its ``--profiles``
    options), until both sensors have reconnected after their drop and gone on for
    :data:`AFTER_RECONNECT_S`, when it is stopped as Ctrl-C stops it (at most ``record_s`` +
    :data:`RECONNECT_WAIT_S` of samples). Whether it passed, what it gave, and
    its figures (with ``folder``, the session recorded, if exactly one was)."""
    cap_s = record_s + RECONNECT_WAIT_S
    began = time.monotonic()
    both_at: list[float] = []
    statuses: list[tuple[float, str, str, str]] = []  # every sensor status change

    def stop_when(out: str) -> bool:  # both back through Bluetooth, and recorded again
        back = {name for _, name, state, _ in statuses if state == "reconnected"}
        if not both_at and back >= set(MUSCLES) and reconnected_by(out).keys() >= back:
            both_at.append(time.monotonic())
        return bool(both_at) and time.monotonic() - both_at[0] >= AFTER_RECONNECT_S

    from emg.sources.ble import BleSource

    on_status = BleSource._on_status

    def noted(source: BleSource, name: str, state: str, detail: str) -> None:
        statuses.append((round(time.monotonic() - began, 2), name, state, detail[:200]))
        on_status(source, name, state, detail)

    BleSource._on_status = noted  # type: ignore[method-assign]
    try:
        code, out, _ = emg_command(
            work, log_name,
            "record", "--source", "ble", "--sensor", "glute=EMG-0001",
            "--sensor", "hamstring=EMG-0002", "--duration", f"{cap_s:g}",
            "--scan-timeout", "4", "--out", str(sessions), *profiles,
            stop_when=stop_when,
        )  # fmt: skip
    finally:
        BleSource._on_status = on_status  # type: ignore[method-assign]
    folders = [f for f in sessions.iterdir() if f.is_dir()] if sessions.is_dir() else []
    meta: dict[str, Any] = {}
    n_samples = 0
    valid: list[int] = []
    valid_after: list[float] = []
    kinds: set[str] = set()
    reconnects: dict[str, float] = {}
    dropped: set[str] = set()
    if len(folders) == 1:
        from emg.io.open_recording import open_recording

        meta = json.loads((folders[0] / "session.json").read_text())
        recording = open_recording(folders[0])
        n_samples = recording.n_samples
        valid = (~recording.lost).sum(axis=0).tolist()
        kinds = {e.kind for e in recording.events}
        reconnects = {
            str(e.data.get("sensor")): e.time_s
            for e in recording.events
            if e.kind == "reconnect" and isinstance(e.data, dict)
        }
        dropped = {
            str(e.data.get("sensor"))
            for e in recording.events
            if e.kind == "disconnect" and isinstance(e.data, dict)
        }
        rate = recording.sample_rate
        for index, muscle in enumerate(MUSCLES):
            at = round(reconnects.get(muscle, n_samples / rate) * rate)
            after = recording.lost[at:, index]
            valid_after.append(round(float(1 - after.mean()), 4) if after.size else 0.0)
    # the sensors that came back through Bluetooth (the recording's reconnect events also
    # follow a sensor that merely fell silent for a while)
    back = {name for _, name, state, _ in statuses if state == "reconnected" and name in MUSCLES}
    last_back_s = max(reconnects.values(), default=0.0)  # stream time of the later one
    stopped = re.search(r"stopped \((\w[\w ]*)\) after", out)
    stopped_by = stopped.group(1) if stopped else None
    ok = (
        code == 0
        and meta.get("status") == "complete"
        and [s.get("profile") for s in meta.get("sensors", [])] == [PROFILE] * 2
        # stopped by the duration (the cap, to the sample) or, once both reconnected, by
        # Ctrl-C
        and (
            (stopped_by == "duration" and n_samples == round(cap_s * 1000))
            or (stopped_by == "interrupt" and n_samples > round(1000 * last_back_s))
        )
        and {"disconnect", "reconnect"} <= kinds
        and all(m in dropped for m in MUSCLES)
        # both sensors drop the link at 4 s and come back, and deliver again after it. At the
        # shipped profile's 100 notifications a second per sensor the software-emulated VM
        # falls behind and masks much of the stream (83-97 % seen), so the command reads a
        # profile asking for MTU-sized packets (--profiles), as on a slow computer. How many
        # samples arrive in time still says how fast the VM is, not whether the command
        # works: part 1 accounts for every sample; here the samples of a sensor that
        # reconnected must have been recorded after its reconnect, and how many is reported.
        # The command must get at least one sensor back: the second of two that dropped at
        # once reconnects after the first, and through this VM's BlueZ and the emulated
        # controller its connect has stalled past the wait in some runs (in others both came
        # back within 40 s); part 1 checks one reconnect in every detail.
        and bool(back)
        and len(valid_after) == 2
        and all(m in reconnects and valid_after[MUSCLES.index(m)] > 0 for m in back)
    )
    masked = [n_samples - v for v in valid]
    detail = (
        f"exit {code}, {meta.get('status')} session of {n_samples} samples stopped by "
        f"{stopped_by}, valid per channel {valid} (masked {masked}), events {sorted(kinds)}, "
        f"reconnects at {reconnects} s, valid after them {valid_after}; " + out.strip()[-300:]
    )
    figures = {
        "samples": n_samples,
        "stopped_by": stopped_by,
        "valid": valid,
        "masked": masked,
        "events": sorted(kinds),
        "reconnect_s": reconnects,
        "reconnected": sorted(back),
        "valid_after_reconnect": valid_after,
        "wall_s": round(time.monotonic() - began, 1),
        "statuses": [st for st in statuses if st[2] != "battery"][:40],
        "folder": str(folders[0]) if len(folders) == 1 else None,
    }
    return ok, detail, figures


def part_two(
    results: Results, work: Path, record_s: float, emulator: Emulator, batch_limit: int | None
) -> None:
    """The console commands against ``emg emulate --host-transport vhci``: ``emg scan``, one
    ``emg record --source ble``, and ``emg analyze`` of the session it recorded; with
    ``batch_limit``, scan and record read a profile folder asking for that many samples per
    notification (``--profiles``)."""
    profiles = profile_folder(work, batch_limit)
    try:
        with timed(results, "cli_emulate"):
            line, adapter = start_emulator(results, emulator)
        results.check(
            "cli_emulate_vhci",
            bool(adapter),
            f"{line.strip() or 'no output (see sensors-*.log)'}; adapter "
            f"{adapter or 'not powered'}",
        )
        if not adapter:
            return
        with timed(results, "cli_scan"):
            code, out, err = emg_command(work, "scan", "scan", "--timeout", "4", *profiles)
        listed = [n for n in NAMES if n in out]
        results.check(
            "cli_scan",
            code == 0 and len(listed) == 2 and PROFILE in out,
            out.strip() + err.strip()[-500:],
        )
        with timed(results, "cli_record"):
            ok, detail, figures = record_once(
                work, "record", work / "cli-sessions", record_s, profiles
            )
        folder = figures.pop("folder")
        results.check("cli_record", ok, detail, **figures)
        if folder is None:
            results.check("cli_analyze", False, "no session recorded to analyse")
            return
        with timed(results, "cli_analyze"):
            code, out, err = emg_command(work, "analyze", "analyze", str(folder), "--json")
        parsed: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            parsed = json.loads(out)
        reps = [r for r in parsed.get("reps", []) if r.get("complete")]
        results.check(
            "cli_analyze",
            code == 0
            and parsed.get("sample_rate") == 1000.0
            and [c.get("label") for c in parsed.get("channels", [])] == list(MUSCLES)
            and "lost_samples" in parsed,
            f"exit {code}: {len(reps)} complete reps ("
            + ", ".join(f"{r.get('order')} {r.get('lead_ms')} ms" for r in reps)
            + f"), lost samples {parsed.get('lost_samples')}; "
            + err.strip()[-300:],
            reps=len(reps),
            lost_samples=parsed.get("lost_samples"),
        )
    finally:
        said = emulator.stop()
        if said:
            results.data["cli_emulate_ended"] = said


def guarded(results: Results, name: str, step: Callable[[], None]) -> None:
    """Run a part; an exception fails it (and is recorded) without stopping the others."""
    try:
        step()
    except Exception as error:
        traceback.print_exc()
        results.check(f"{name}_ran", False, f"{type(error).__name__}: {error}")
    else:
        results.check(f"{name}_ran", True)


def main() -> int:
    """Run the checks; exit 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    parser.add_argument("--work", type=Path, required=True, help="folder for sessions and logs")
    parser.add_argument("--stream-s", type=float, default=30.0)
    parser.add_argument("--disconnect-at", type=float, default=12.0)
    parser.add_argument("--record-s", type=float, default=15.0)
    parser.add_argument("--parts", default="1,2")
    parser.add_argument(
        "--timing-retries",
        type=int,
        default=1,
        help="streams run again when the VM delivered too unevenly to measure sample times, "
        "if the budget leaves time for it (1)",
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=3600.0,
        help="seconds the batch may take from its start: optional work (the second timing "
        "stream) is left out when it would not fit (3600)",
    )
    parser.add_argument(
        "--batch-limit",
        type=int,
        default=None,
        help="samples per notification the host asks for (0: as many as fit; default: the "
        "profile's); the console commands get it through a profile folder (--profiles)",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = Results(args.out)
    with contextlib.suppress(OSError, ValueError):  # written by run_checks.sh
        python_started = float((args.work / "python_started").read_text())
        results.timing("python_start", results.data["started"] - python_started)
    parts = args.parts.split(",")
    # the emulated sensors load (import) while this process does; one process for both parts
    processes = Processes(
        SensorProcess(args.work, args.disconnect_at), time.monotonic() + args.budget_s
    )
    try:
        with timed(results, "imports"):
            preload()
            processes.sensors.wait_loaded()  # nothing else busy while part 1 measures
        if "1" in parts:
            guarded(
                results,
                "stack",
                lambda: asyncio.run(
                    part_one(
                        results,
                        args.work,
                        args.stream_s,
                        args.disconnect_at,
                        args.batch_limit,
                        processes,
                        args.timing_retries,
                    )
                ),
            )
        if "2" in parts:
            emulator = Emulator(processes, args.work)
            guarded(
                results,
                "cli",
                lambda: part_two(results, args.work, args.record_s, emulator, args.batch_limit),
            )
    finally:
        processes.sensors.close()
    results.data["finished"] = time.time()
    results.save()
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
