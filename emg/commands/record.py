"""``emg record`` and ``emg replay``: a stream through the recorder and the analysis, headless."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.session_events import outcome
from emg.block import Block, Channel
from emg.commands.console import console_listener
from emg.commands.options import (
    add_chain_options,
    add_recruitment_options,
    analysis_config,
    chain_config,
    exercise_config,
    normalisation,
)
from emg.commands.scan import add_radio_option
from emg.commands.synthetic_options import DEMO_SET, add_synthetic_options, synth_config
from emg.errors import EmgDeviceError, EmgInputError
from emg.events import Event
from emg.io.channel_map import parse_channel_overrides
from emg.io.json_files import to_json, write_json
from emg.io.open_recording import READABLE, open_recording
from emg.io.session_writer import session_folder
from emg.recording import Recording
from emg.session import LiveSession, run_session
from emg.sources.replay import parse_speed, replay_blocks
from emg.sources.synthetic import generate_session

#: Default parent folder of new sessions.
RECORDINGS = Path("recordings")


def _speed(text: str) -> float | None:
    try:
        return parse_speed(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_channel_option(parser: argparse.ArgumentParser) -> None:
    """``--channel MUSCLE=NAME`` (repeatable)."""
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="MUSCLE=NAME",
        help="name a channel of the file as a muscle, e.g. --channel glute=EMG1 --channel "
        "hamstring_left=EMG3; with it only the named channels are read",
    )


def open_input(path: Path, specs: list[str]) -> Recording:
    """:func:`open_recording` with ``--channel`` overrides."""
    return open_recording(path, parse_channel_overrides(specs) or None)


def add_parsers(commands: Any) -> None:
    """Register ``record`` and ``replay``."""
    record = commands.add_parser(
        "record",
        help="record a set from a source, analysing it as it happens",
        description="Record a session from a source (headless), printing one line per rep "
        "(order, lead, ratio) and the hamstring-first flag as it happens. The session is "
        "written while it happens (a crash loses at most the last second) into "
        "OUT/<date>-<time>-<exercise>/, and exported to BIDS-EMG (BDF+) when it stops. "
        "Ctrl-C stops cleanly.",
    )
    record.add_argument(
        "--source",
        choices=["synthetic", "ble"],
        default="synthetic",
        help="where the samples come from: synthetic (the built-in demo set, or the set "
        "described by the synthetic-set options) or ble (sensors named with --sensor)",
    )
    record.add_argument(
        "--sensor",
        action="append",
        default=[],
        metavar="MUSCLE=NAME",
        help="with --source ble: the sensor on a muscle, by advertised name or address, e.g. "
        "--sensor glute=EMG-01A3 --sensor hamstring=EMG-7F20",
    )
    record.add_argument(
        "--scan-timeout", type=float, default=5.0, metavar="S", help="seconds to scan (5)"
    )
    record.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    record.add_argument(
        "--out",
        type=Path,
        default=RECORDINGS,
        metavar="DIR",
        help="parent folder of the new session (default: recordings)",
    )
    record.add_argument("--subject", help="subject label kept with the session (e.g. 01)")
    record.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="pace of a synthetic source: 1 = real time (default), 2 = twice as fast, max",
    )
    record.add_argument(
        "--no-export", action="store_true", help="do not export to BIDS-EMG when stopping"
    )
    add_radio_option(record)
    add_chain_options(record)
    add_recruitment_options(record)
    add_synthetic_options(record, DEMO_SET)
    record.set_defaults(handler=run_record)

    replay = commands.add_parser(
        "replay",
        help="replay a recording through the live analysis",
        description="Play a recording through the same streaming analysis as a live session, "
        f"printing one line per rep and the flags as they happen. Reads {READABLE}. A "
        "recorded session is analysed with the settings it was recorded with (options "
        "given here change them), and the result is checked against what it recorded.",
    )
    replay.add_argument("session", type=Path, metavar="SESSION")
    replay.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="1 = real time (default), 2 = twice as fast, max = as fast as possible",
    )
    replay.add_argument("--json", action="store_true", help="print the events as JSON at the end")
    add_channel_option(replay)
    add_chain_options(replay)
    add_recruitment_options(replay)
    replay.set_defaults(handler=run_replay)


def _run(
    main: Callable[[], Coroutine[Any, Any, str]],
) -> str:
    """Run a session coroutine; Ctrl-C or SIGTERM cancel it (it finalises itself)."""

    async def guarded() -> str:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await main()
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        return asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        return "interrupt"


@dataclass
class _Source:
    """A live source as ``emg record`` needs it."""

    channels: tuple[Channel, ...]
    sample_rate: float
    blocks: Callable[[], AsyncIterator[Block]]
    metadata: dict[str, Any]
    mains_hz: float | None
    after: Callable[[Path], None] = lambda folder: None
    on_event: list[Callable[[list[Event]], None]] = dataclasses.field(default_factory=list)


def _synthetic_source(args: argparse.Namespace) -> _Source:
    synth = synth_config(args, DEMO_SET)
    try:
        generated = generate_session(synth)
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None
    recording = generated.recording
    return _Source(
        recording.channels,
        recording.sample_rate,
        lambda: replay_blocks(recording, args.speed),
        {
            "source": "synthetic",
            "sensors": [
                {"name": c.device, "profile": "synthetic", "channels": [c.label]}
                for c in recording.channels
            ],
            "synthetic": {"truth_file": "truth.json"},
        },
        synth.mains_hz,
        after=lambda folder: write_json(folder / "truth.json", generated.truth),
    )


async def _ble_source(args: argparse.Namespace) -> _Source:
    from emg.commands.scan import open_radio
    from emg.devices.profiles import load_profiles
    from emg.sources.ble import BleSource, parse_sensor_choices, resolve_sensors

    choices = parse_sensor_choices(args.sensor)
    if not choices:
        raise EmgDeviceError(
            "name the sensors: --sensor glute=<name or address> --sensor hamstring=<...> "
            "(emg scan lists them)"
        )
    radio = await open_radio(args.radio)
    print(f"scanning {args.scan_timeout:g} s for {len(choices)} sensors ...", flush=True)
    adverts = await radio.scan(args.scan_timeout)
    sensors = resolve_sensors(adverts, choices, load_profiles().values())
    source = BleSource(radio, sensors)
    result = _Source(
        source.channels,
        source.sample_rate,
        source.blocks,
        {
            "source": "ble",
            "sensors": [
                {
                    "name": s.advert.name,
                    "address": s.advert.address,
                    "profile": s.profile.name,
                    "decoder": s.profile.decoder_kind,
                    "channels": [c.label for c in s.channels],
                }
                for s in sensors
            ],
        },
        None,
    )

    def forward(events: list[Event]) -> None:
        for listen in result.on_event:
            listen(events)

    source.on_event = forward
    return result


def run_record(args: argparse.Namespace) -> int:
    """``emg record``."""
    state: dict[str, Any] = {}

    async def record() -> str:
        source = await _ble_source(args) if args.source == "ble" else _synthetic_source(args)
        config = _live_settings(args, source.mains_hz)
        folder = session_folder(args.out, config.exercise.name, datetime.now())
        metadata = {
            "exercise": config.exercise.name,
            "subject": args.subject,
            **source.metadata,
            "calibration": {
                "rest_s": list(config.chain.rest) if config.chain.rest else None,
                "mvc_uv": dict(config.normalisation.mvc_uv),
            },
        }
        live = LiveSession(
            source.channels,
            source.sample_rate,
            config,
            folder,
            metadata,
            listener=console_listener(),
            keep_events=False,
        )
        source.on_event.append(live.note)
        state.update(live=live, folder=folder, source=source)
        print(
            f"recording {len(source.channels)} channels at {source.sample_rate:g} Hz into "
            f"{folder} ({config.exercise.name}); Ctrl-C stops",
            flush=True,
        )
        return await run_session(source.blocks(), live, args.duration)

    stopped_by = _run(record)
    live: LiveSession | None = state.get("live")
    if live is None or live.writer is None:
        print("stopped before the first sample: nothing recorded")
        return 1
    folder: Path = state["folder"]
    state["source"].after(folder)
    print(_totals(live, stopped_by, folder))
    if not args.no_export:
        exported = export_session(folder)
        print(f"exported to {exported}")
    return 0


def _live_settings(args: argparse.Namespace, source_mains_hz: float | None) -> AnalysisConfig:
    """Settings of a live stream: nothing can be looked up ahead in it, so ``--mains auto``
    takes the source's mains frequency if it knows it, else 50 Hz (give 60 where it is)."""
    chain = chain_config(args)
    if args.mains in (None, "auto"):
        mains: float | None = source_mains_hz or 50.0
    else:
        mains = None if args.mains == "off" else float(args.mains)
    chain = dataclasses.replace(chain, mains_hz=mains)
    for spec in args.mvc:
        if re.fullmatch(r"[^=]*=\s*[\d.]+-[\d.]+\s*", spec):
            raise EmgInputError(
                f"--mvc {spec}: a segment of the input needs a recording; while recording, "
                "give a calibration file (glute=FILE) or a value (glute=310uv)",
                source="command line",
            )
    empty = Recording(data=np.zeros((0, 0), dtype=np.float32), sample_rate=1.0, channels=())
    return AnalysisConfig(
        chain=chain,
        exercise=exercise_config(args),
        normalisation=normalisation(args.mvc, empty, chain),
    )


def _totals(live: LiveSession, stopped_by: str, folder: Path | None) -> str:
    where = f"; session in {folder}" if folder else ""
    return (
        f"stopped ({stopped_by}) after {live.n_samples / live.sample_rate:.1f} s: "
        f"{live.counts['rep']} reps, {live.counts['flag']} flags{where}"
    )


def export_session(folder: Path) -> Path:
    """Export a finished session to BIDS-EMG inside it (``<session>/bids``)."""
    from emg.io.bids_format import export_bids

    recording = open_recording(folder)
    export_bids(recording, folder / "bids")
    return folder / "bids"


def run_replay(args: argparse.Namespace) -> int:
    """``emg replay``."""
    recording = open_input(args.session, args.channel)
    config = analysis_config(args, recording)
    live = LiveSession(
        recording.channels,
        recording.sample_rate,
        config,
        listener=None if args.json else console_listener(),
    )
    if not args.json:
        print(
            f"replaying {recording.source}: {recording.duration_s:.1f} s, "
            f"{len(recording.channels)} channels at {recording.sample_rate:g} Hz",
            flush=True,
        )

    async def replay() -> str:
        return await run_session(replay_blocks(recording, args.speed), live)

    stopped_by = _run(replay)
    check = _check_against_recorded(recording, live.events, stopped_by)
    if args.json:
        print(
            to_json(
                {
                    "source": recording.source,
                    "stopped_by": stopped_by,
                    "matches_recording": check,
                    "events": [e.to_dict() for e in live.events],
                }
            )
        )
        return 0
    print(_totals(live, stopped_by, None))
    if check is not None:
        print(
            "same reps, orders, ratios and flags as the recorded run"
            if check
            else "differs from the recorded run (other settings, or a different version)"
        )
    return 0


def _check_against_recorded(
    recording: Recording, events: list[Event], stopped_by: str
) -> bool | None:
    recorded = outcome(recording.events)
    cut_short = recording.metadata.get("complete") is False
    if not recorded or cut_short or stopped_by != "end of source":
        return None
    return outcome(events) == recorded
