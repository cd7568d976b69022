"""``emg record`` and ``emg replay``: a stream through the recorder and the analysis, headless."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from emg.analysis.session_events import outcome, outcome_in_full
from emg.commands.console import console_listener, session_stopped_line
from emg.commands.live_sources import (
    add_live_source_options,
    ble_source,
    check_live_options,
    finish_recording,
    index_recorded,
    lsl_source,
    open_live_session,
    parse_speed_option,
    say_too_short,
    synthetic_source,
)
from emg.commands.options import (
    add_chain_options,
    add_channel_option,
    add_recruitment_options,
    analysis_config,
    input_path,
    read_input,
)
from emg.errors import EmgInputError
from emg.events import Event
from emg.io.json_files import to_json
from emg.io.open_recording import READABLE
from emg.recording import Recording
from emg.session import LiveSession, StopSignals, run_session, run_until_stopped
from emg.sources.lsl import lsl_stream_name
from emg.sources.replay import replay_blocks


def add_parsers(commands: Any) -> None:
    """Register ``record`` and ``replay``."""
    record = commands.add_parser(
        "record",
        help="record a set from a source, analysing it as it happens",
        description="Record a session from a source (headless), printing one line per rep "
        "(order, lead, ratio) and the hamstring-first flag as it happens. The session is "
        "written while it happens (a crash loses at most the last second) into "
        "OUT/<date>-<time>-<exercise>/, and exported to BIDS-EMG (BDF+) when it stops. "
        "Ctrl-C, SIGTERM and SIGHUP stop cleanly; a full disk stops the recording with every "
        "sample written kept.",
    )
    record.add_argument(
        "--source",
        type=_record_source,
        default="synthetic",
        metavar="{synthetic,ble,lsl:NAME}",
        help="where the samples come from: synthetic (the built-in demo set, or the set "
        "described by the synthetic-set options), ble (sensors named with --sensor) or "
        "lsl:NAME (the Lab Streaming Layer EMG stream called NAME; --channel names its "
        "channels as muscles)",
    )
    add_live_source_options(record)
    add_channel_option(record)
    record.set_defaults(handler=run_record)

    replay = commands.add_parser(
        "replay",
        help="replay a recording through the live analysis",
        description="Play a recording through the same streaming analysis as a live session, "
        "in the live window, with pause (Space), seek (the slider, or the arrow keys) and "
        "speed (+/-). With --headless it prints one line per rep and the flags as they "
        "happen instead, and checks the result against what the session recorded. Reads "
        f"{READABLE}. A recorded session is analysed with the settings it was recorded with "
        "(options given here change them).",
    )
    replay.add_argument("session", type=input_path, metavar="SESSION")
    replay.add_argument(
        "--speed",
        type=parse_speed_option,
        default=1.0,
        metavar="X",
        help="1 = real time (default), 2 = twice as fast, max = as fast as possible",
    )
    replay.add_argument(
        "--headless",
        action="store_true",
        help="no window: print the reps and flags, and check them against the recording",
    )
    replay.add_argument(
        "--json", action="store_true", help="headless, and print the events as JSON at the end"
    )
    replay.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="play in the window (off screen without a display) and save it at the end",
    )
    replay.add_argument("--no-sound", action="store_true", help="no audible cue in the window")
    add_channel_option(replay)
    add_chain_options(replay)
    add_recruitment_options(replay)
    replay.set_defaults(handler=run_replay)


def _run(main: Callable[[], Coroutine[Any, Any, str]]) -> str:
    """Run a session coroutine; Ctrl-C, SIGTERM or SIGHUP stop it (it finalises itself)."""
    with StopSignals() as signals:
        return run_until_stopped(main, signals)


def _record_source(text: str) -> str:
    """``--source`` of ``emg record``: ``synthetic``, ``ble`` or ``lsl:NAME``."""
    try:
        if text in ("synthetic", "ble") or lsl_stream_name(text) is not None:
            return text
    except EmgInputError as error:
        raise argparse.ArgumentTypeError(error.detail) from None
    raise argparse.ArgumentTypeError(f"'{text}' is not one of synthetic, ble, lsl:NAME")


def run_record(args: argparse.Namespace) -> int:
    """``emg record``."""
    check_live_options(args)
    state: dict[str, Any] = {}

    async def record() -> str:
        lsl_name = lsl_stream_name(args.source)
        if lsl_name is not None:
            source = await lsl_source(args, lsl_name)
        elif args.source == "ble":
            source = await ble_source(args)
        else:
            source = synthetic_source(args)
        live, folder = open_live_session(args, source, console_listener(), record=True)
        state.update(live=live, folder=folder, source=source)
        print(
            f"recording {len(source.channels)} channels at {source.sample_rate:g} Hz into "
            f"{folder} ({live.config.exercise.name}); Ctrl-C stops",
            flush=True,
        )
        return await run_session(source.blocks(), live, args.duration)

    with StopSignals() as signals:  # a signal while finishing is noted, not obeyed
        stopped_by = run_until_stopped(record, signals)
        live: LiveSession | None = state.get("live")
        if live is None or live.writer is None:
            print(f"stopped ({stopped_by}) before the first sample: nothing recorded")
            return 1
        folder: Path = live.writer.folder  # the folder it took (another may have had the name)
        print(_totals(live, live.stopped_by or stopped_by, folder), flush=True)
        too_short = say_too_short(live, folder)
        exported = finish_recording(state["source"], folder, export=not args.no_export)
        if exported is not None:
            print(f"exported to {exported}")
        if not too_short:  # indexing analyses it
            index_recorded(folder, args)
        return 0


def _totals(live: LiveSession, stopped_by: str, folder: Path | None) -> str:
    where = f"; session in {folder}" if folder else ""
    return session_stopped_line(stopped_by, live) + where


def run_replay(args: argparse.Namespace) -> int:
    """``emg replay``."""
    recording = read_input(args.session, args.channel, args.stream)
    config = analysis_config(args, recording)
    if not (args.headless or args.json):
        from emg.commands.live import replay_window

        return replay_window(recording, config, args)
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
    elif altered := _altered(recording):
        print(f"not compared with the recorded run: on reading, {altered[0]}")
    elif not outcome_in_full(recording.events):
        print(
            "not compared with the recorded run: the recording's events keep only their kind "
            "and description (as BDF annotations do), not the reps' orders and leads"
        )
    return 0


def _altered(recording: Recording) -> list[str]:
    """What reading left out of or changed in a complete session (a damaged event line,
    samples beyond any amplifier's range): the recorded run saw something else."""
    notes = recording.metadata.get("recovered") or []
    complete = recording.metadata.get("complete") is not False
    return [str(note) for note in notes] if complete else []


def _check_against_recorded(
    recording: Recording, events: list[Event], stopped_by: str
) -> bool | None:
    recorded = outcome(recording.events)
    cut_short = recording.metadata.get("complete") is False or "cut_short" in recording.metadata
    if (
        not recorded
        or cut_short
        or stopped_by != "end of source"
        or _altered(recording)
        or not outcome_in_full(recording.events)
    ):
        return None
    return outcome(events) == recorded
