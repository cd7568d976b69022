"""Sources of a live stream and their settings, shared by ``emg record`` and ``emg live``."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from emg.analysis.history import sensor_names
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.settings import SettingError, check_duration
from emg.athlete_db import DB_NAME
from emg.athlete_history import DEFAULT_RECORDINGS
from emg.block import Block, Channel
from emg.commands.history import add_athlete_options, athlete_option, say_reused_mvc
from emg.commands.options import (
    add_chain_options,
    add_recruitment_options,
    analysis_config,
    option_error,
    setting_overrides,
)
from emg.commands.scan import add_radio_option, check_scan_timeout
from emg.commands.synthetic_options import (
    add_synthetic_options,
    given_synthetic_options,
    synth_config,
)
from emg.errors import EmgDeviceError, EmgInputError
from emg.events import Event
from emg.io.json_files import write_json
from emg.io.open_recording import open_recording
from emg.io.output_guard import OutputNotWritten, staged_folder
from emg.io.session_format import BIDS_FOLDER
from emg.io.session_writer import describe_write_error, session_folder
from emg.recording import Recording
from emg.session import LiveSession
from emg.settings_resolution import resolve_live_settings
from emg.sources.replay import parse_speed, replay_blocks
from emg.sources.synthetic import DEMO_SET, generate_session, truth_recorded

#: Default parent folder of new sessions (where the athletes' database is, too).
RECORDINGS = DEFAULT_RECORDINGS


def parse_speed_option(text: str) -> float | None:
    """``--speed`` for argparse: ``1``, ``2.5`` or ``max`` (None)."""
    try:
        return parse_speed(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_live_source_options(parser: argparse.ArgumentParser) -> None:
    """Options of a live stream: sensors, duration, where to record, analysis settings and
    the synthetic set (``--source`` itself is the command's own)."""
    parser.add_argument(
        "--sensor",
        action="append",
        default=[],
        metavar="MUSCLE=NAME",
        help="with --source ble: the sensor on a muscle, by advertised name or address, e.g. "
        "--sensor glute=EMG-01A3 --sensor hamstring=EMG-7F20",
    )
    parser.add_argument(
        "--scan-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to scan for sensors, or to look for the LSL stream of --source lsl:NAME (5)",
    )
    parser.add_argument(
        "--lsl",
        nargs="?",
        const="emg",
        metavar="NAME",
        help="publish the stream on Lab Streaming Layer (for LabRecorder): an EMG outlet "
        "called NAME (default emg; lost samples as NaN) and NAME-markers with every rep, "
        "onset order, flag and cramp-risk change as JSON",
    )
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument(
        "--out",
        type=Path,
        default=RECORDINGS,
        metavar="DIR",
        help="parent folder of the new session (default: recordings)",
    )
    parser.add_argument("--subject", help="subject label kept with the session (e.g. 01)")
    add_athlete_options(parser, "in the --out folder")
    parser.add_argument(
        "--speed",
        type=parse_speed_option,
        default=1.0,
        metavar="X",
        help="pace of a synthetic or replayed source: 1 = real time (default), 2 = twice as "
        "fast, max",
    )
    parser.add_argument(
        "--no-export", action="store_true", help="do not export to BIDS-EMG when stopping"
    )
    add_radio_option(parser)
    add_chain_options(parser)
    add_recruitment_options(parser)
    add_synthetic_options(parser, DEMO_SET)


def check_live_options(args: argparse.Namespace) -> None:
    """Refuse options of ``emg record`` / ``emg live`` the library rejects, before connecting.

    Raises
    ------
    EmgInputError
        Naming the option (``--duration``) and its accepted range, a ``--subject`` that is
        not a BIDS label, an empty ``--lsl`` name, ``--sensor`` or ``--channel`` with a
        source that does not use it (:func:`check_source_options`).
    """
    check_source_options(args)
    if getattr(args, "reuse_mvc", False) and not getattr(args, "athlete", None):
        raise EmgInputError("--reuse-mvc needs --athlete", source="command line")
    if getattr(args, "subject", None) is not None:  # as the session's BIDS export will need it
        from emg.io.bids_format import bids_label

        bids_label(args.subject, "subject", "--subject")
    if getattr(args, "lsl", None) is not None:
        from emg.sinks.lsl_outlet import check_outlet_name

        check_outlet_name(args.lsl, "--lsl")
    check_scan_timeout(args.scan_timeout, "--scan-timeout")
    if args.duration is not None:
        try:
            check_duration(args.duration, "--duration")
        except SettingError as error:
            raise EmgInputError(str(error), source="command line") from None


#: Why ``--channel`` does not apply to a source, by source (the others use it: an LSL stream's
#: channels, a replayed recording's).
CHANNEL_UNUSED = {
    "synthetic": "its channels are generated, named by muscle already",
    "ble": "--sensor MUSCLE=NAME gives each sensor's muscle",
}


def check_source_options(args: argparse.Namespace) -> None:
    """Refuse ``--sensor``, ``--profiles`` and ``--radio`` with a source other than ``ble``
    (the only one with sensors), ``--channel`` with one whose channels are named already
    (``synthetic``, ``ble``), ``--stream`` with one other than a replay, and the synthetic
    set's options with any other source than ``synthetic``: given, they were ignored.

    Raises
    ------
    EmgInputError
        Naming the option, the source and why it does not apply.
    """
    given = args.source if isinstance(args.source, str) else args.source[0]  # live: KIND [PATH]
    kind = "lsl" if given.lower().startswith("lsl:") else given
    if kind not in ("synthetic", "ble", "lsl", "replay"):
        return  # the command says which sources there are
    if args.sensor and kind != "ble":
        raise EmgInputError(
            f"--sensor does not apply to --source {given}: it names the Bluetooth sensors of "
            "--source ble",
            source="command line",
        )
    if getattr(args, "channel", None) and kind in CHANNEL_UNUSED:
        raise EmgInputError(
            f"--channel does not apply to --source {kind}: {CHANNEL_UNUSED[kind]}",
            source="command line",
        )
    ble_only = [
        option
        for option, given_it in (
            ("--profiles", bool(getattr(args, "profiles", None))),
            ("--radio", getattr(args, "radio", "bleak") != "bleak"),
        )
        if given_it
    ]
    if ble_only and kind != "ble":
        raise EmgInputError(
            f"{ble_only[0]} does not apply to --source {given}: it is for the Bluetooth "
            "sensors of --source ble",
            source="command line",
        )
    if getattr(args, "stream", None) is not None and kind != "replay":
        raise EmgInputError(
            f"--stream does not apply to --source {given}: it chooses the EMG stream of a "
            "replayed XDF file",
            source="command line",
        )
    synthetic = given_synthetic_options(args)
    if synthetic and kind != "synthetic":
        raise EmgInputError(
            f"{synthetic[0]} does not apply to --source {given}: it describes the set "
            "--source synthetic generates",
            source="command line",
        )


@dataclass
class LiveSource:
    """A live source as ``emg record`` and ``emg live`` need it."""

    channels: tuple[Channel, ...]
    sample_rate: float
    blocks: Callable[[], AsyncIterator[Block]]
    metadata: dict[str, Any]
    mains_hz: float | None
    after: Callable[[Path], None] = lambda folder: None
    on_event: list[Callable[[list[Event]], None]] = dataclasses.field(default_factory=list)
    #: What it received but had not handed out when stopped (see LiveSession.drain).
    drain: Callable[[], list[Block]] | None = None
    #: The recording it plays, when it is one known in full (a replay): analysed with the
    #: settings ``emg replay`` and ``emg analyze`` resolve for it, not a live stream's.
    recording: Recording | None = None


def synthetic_source(args: argparse.Namespace) -> LiveSource:
    synth = synth_config(args, DEMO_SET)
    try:
        generated = generate_session(synth)
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None
    recording = generated.recording
    return LiveSource(
        recording.channels,
        recording.sample_rate,
        lambda: replay_blocks(recording, args.speed),
        {
            "source": "synthetic",
            "sensors": [
                {
                    "name": c.device,
                    "profile": "synthetic",
                    "manufacturer": "emg-toolkit",
                    "model": "synthetic sEMG generator",
                    "channels": [c.label],
                }
                for c in recording.channels
            ],
            "synthetic": {"truth_file": "truth.json"},
        },
        synth.mains_hz,
        # the truth of what was recorded: a set stopped early keeps the reps it holds
        after=lambda folder: write_json(
            folder / "truth.json",
            truth_recorded(generated.truth, open_recording(folder).duration_s),
        ),
    )


async def ble_source(args: argparse.Namespace) -> LiveSource:
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
    sensors = resolve_sensors(adverts, choices, load_profiles(extra=args.profiles).values())
    source = BleSource(radio, sensors)
    result = LiveSource(
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
                    "manufacturer": s.profile.manufacturer or None,
                    "model": s.profile.model or None,
                    "decoder": s.profile.decoder_kind,
                    "channels": [c.label for c in s.channels],
                }
                for s in sensors
            ],
        },
        None,
        drain=source.drain,
    )

    def forward(events: list[Event]) -> None:
        for listen in result.on_event:
            listen(events)

    source.on_event = forward
    return result


async def lsl_source(args: argparse.Namespace, name: str) -> LiveSource:
    """``--source lsl:NAME``: an LSL EMG stream (channels from its desc, or ``--channel``)."""
    from emg.io.channel_map import parse_channel_overrides
    from emg.sources.lsl import open_lsl_source

    overrides = parse_channel_overrides(getattr(args, "channel", None) or [])
    print(f"looking for LSL stream '{name}' ({args.scan_timeout:g} s) ...", flush=True)
    source = await open_lsl_source(name, overrides or None, args.scan_timeout)
    result = LiveSource(
        source.channels,
        source.sample_rate,
        source.blocks,
        source.metadata,
        None,
        drain=source.drain,
    )

    def forward(events: list[Event]) -> None:
        for listen in result.on_event:
            listen(events)

    source.on_event = forward
    return result


def live_settings(args: argparse.Namespace, source_mains_hz: float | None) -> AnalysisConfig:
    """Settings of a live stream (:func:`emg.settings_resolution.resolve_live_settings` with
    the options given)."""
    try:
        return resolve_live_settings(setting_overrides(args), source_mains_hz)
    except SettingError as error:
        raise option_error(error, args) from None


def open_live_session(
    args: argparse.Namespace,
    source: LiveSource,
    listener: Callable[[list[Event]], None] | None,
    record: bool,
) -> tuple[LiveSession, Path | None]:
    """The live session of a source with the command's settings: recording into a new folder
    under ``--out`` (when ``record``), events to ``listener``, the source's own events
    (disconnects ...) into the session.

    Returns
    -------
    tuple
        The session and its folder (None when not recording).
    """
    config = (
        analysis_config(args, source.recording)
        if source.recording is not None
        else live_settings(args, source.mains_hz)
    )
    folder = session_folder(args.out, config.exercise.name, datetime.now()) if record else None
    athlete = athlete_option(args)
    reused = None
    if athlete is not None:  # the athlete's own band (and MVC), from the sessions before now
        from emg.athlete_history import athlete_settings

        config, reused = athlete_settings(
            config,
            athlete,
            args.db or Path(args.out) / DB_NAME,
            sensors=sensor_names(source.metadata, [c.label for c in source.channels]),
            before=datetime.now().astimezone().isoformat(),
            reuse_mvc=args.reuse_mvc,
        )
        if args.reuse_mvc:
            say_reused_mvc(reused)
    metadata = {
        "exercise": config.exercise.name,
        "subject": args.subject,
        **({"athlete": athlete} if athlete else {}),
        **source.metadata,
        "calibration": {
            "rest_s": list(config.chain.rest) if config.chain.rest else None,
            "mvc_uv": dict(config.normalisation.mvc_uv),
            **({"mvc_from": {"date": reused.date, "folder": reused.folder}} if reused else {}),
        },
    }
    if record:  # --out is made once every option was taken, so that one that cannot be made
        # says so before anything is announced (the session's folder comes with its first sample)
        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = describe_write_error(error, Path(args.out))
            raise EmgInputError(f"--out cannot be made: {reason}", source=str(args.out)) from None
    live = LiveSession(
        source.channels,
        source.sample_rate,
        config,
        folder,
        metadata,
        listener=listener,
        keep_events=False,
    )
    source.on_event.append(live.note)
    live.drain = source.drain
    if getattr(args, "lsl", None) is not None:
        from emg.sinks.lsl_outlet import LslOutlet

        outlet = LslOutlet(
            source.channels,
            source.sample_rate,
            name=args.lsl,
            host_clock=source.metadata.get("source") in ("ble", "lsl"),
        )
        # hooked in when streaming starts (after the live window has taken the session's
        # listeners), closed when the stream ends
        source.blocks = outlet.wrap(live, source.blocks)
        print(f"publishing on LSL as '{args.lsl}' and '{args.lsl}-markers'", flush=True)
    return live, folder


def finish_recording(source: LiveSource, folder: Path, export: bool) -> Path | None:
    """After a recorded stream: the source's extras (a synthetic set's truth) and, unless
    told not to, the BIDS-EMG export. Returns the export's folder.

    Raises
    ------
    EmgInputError
        One line naming the file that could not be written (disk full ...); the session
        itself stays complete.
    """
    try:
        source.after(folder)
    except OSError as error:
        raise EmgInputError(
            f"{describe_write_error(error, folder)}: not written, and the session not exported; "
            "the session itself is complete",
            source=str(getattr(error, "filename", None) or folder),
        ) from None
    return export_session(folder) if export else None


def say_too_short(live: LiveSession, folder: Path) -> bool:
    """Say, when the recording in ``folder`` ended too short to analyse, why, in the words
    ``emg analyze`` refuses it with (:attr:`emg.session.LiveSession.too_short`); every
    sample written is kept. Returns whether it was too short."""
    reason = live.too_short.get(folder)
    if reason is None:
        return False
    print(f"{folder}: kept (every sample), but too short to analyse: {reason}", flush=True)
    return True


def index_recorded(folder: Path, args: argparse.Namespace) -> None:
    """With ``--athlete``: index the finished session in the athletes' database (analysed as
    ``emg analyze FOLDER`` would). A failure is one line; the session itself stays complete
    and ``emg history --rebuild`` can index it later."""
    athlete = athlete_option(args)
    if athlete is None:
        return
    from emg.athlete_history import default_db, index_recording

    db = args.db or default_db(folder)
    try:
        entry = index_recording(folder, athlete, db)
    except EmgInputError as error:
        print(f"not indexed ({error}); the session is complete: emg history --rebuild adds it")
        return
    print(f"indexed {len(entry.reps)} reps under {athlete} in {db}")


def export_session(folder: Path) -> Path:
    """Export a finished session to BIDS-EMG inside it (``<session>/bids``).

    Raises
    ------
    EmgInputError
        The export could not be written (disk full ...): one line, and no half export left
        behind (a ``bids`` folder made by this export is removed); the session is untouched.
    """
    from emg.io.bids_format import export_bids

    recording = open_recording(folder)
    out = folder / BIDS_FOLDER
    existed = out.exists()
    try:
        with staged_folder(out) as staging:
            export_bids(recording, out, staging=staging)
    except OutputNotWritten as error:
        reason = error.reason
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        raise EmgInputError(
            f"{reason}: the BIDS export failed and was removed; the "
            f"session itself is complete (export it later: emg export {folder} --to bids {out})",
            source=str(out),
        ) from None
    return out
