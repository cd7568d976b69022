"""``emg live``: the live window, fed by Bluetooth sensors, the synthetic set or a replay."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block
from emg.commands.console import console_listener, session_stopped_line
from emg.commands.live_sources import (
    LiveSource,
    add_live_source_options,
    ble_source,
    check_live_options,
    export_session,
    finish_recording,
    index_recorded,
    lsl_source,
    open_live_session,
    say_too_short,
    synthetic_source,
)
from emg.commands.options import add_channel_option, input_path, read_input
from emg.errors import EmgInputError
from emg.io.output_guard import check_output_suffix
from emg.io.session_writer import session_folder
from emg.recording import Recording
from emg.session import LiveSession, StopSignals
from emg.sources.lsl import lsl_stream_name
from emg.sources.replay import replay_blocks
from emg.sources.replay_control import ReplayControl, steered_replay_blocks
from emg.ui.acquisition import Acquisition, Prepare
from emg.ui.display import display_problem
from emg.ui.session_control import FolderFor

SOURCES = ("synthetic", "ble", "replay")


def add_parser(commands: Any) -> None:
    """Register ``live``."""
    live = commands.add_parser(
        "live",
        help="the live window: envelopes, onset order per rep, ratio, and the warning",
        description="Open the live window on a stream: per muscle the filtered signal with "
        "its RMS envelope, the onset threshold and every onset; a tile per rep with who led "
        "and by how many ms and the glute:hamstring ratio; the ratio trend; a large banner "
        "and an audible cue when the hamstrings keep starting the reps; the cramp risk with "
        "its reasons; the sensors' status. Keys: M marks a set, S sound on/off, H help, "
        "Q stops; so do closing the window, Ctrl-C, SIGTERM and SIGHUP (a recording is "
        "finalised and exported in every case). With --screenshot the window runs off screen "
        "(no display needed) and is saved as a PNG when the stream ends.",
    )
    live.add_argument(
        "--source",
        nargs="+",
        default=["synthetic"],
        metavar="KIND",
        help="synthetic (the built-in demo set, or the synthetic-set options), ble (the "
        "sensors named with --sensor), replay PATH (a recording in any readable format), or "
        "lsl:NAME (the Lab Streaming Layer EMG stream called NAME)",
    )
    live.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="run without a display and save the window as it is at the end",
    )
    live.add_argument("--no-sound", action="store_true", help="no audible cue")
    record = live.add_mutually_exclusive_group()
    record.add_argument(
        "--record",
        dest="record",
        action="store_true",
        default=None,
        help="record the session into OUT (the default with --source ble)",
    )
    record.add_argument("--no-record", dest="record", action="store_false", help="do not record")
    add_live_source_options(live)
    add_channel_option(live)
    live.set_defaults(handler=run_live)


def _source_kind(args: argparse.Namespace) -> tuple[str, Path | None]:
    kind, *rest = args.source
    if lsl_stream_name(kind) is not None:
        if rest:
            raise EmgInputError(f"--source {kind} takes no PATH", source="command line")
        return kind, None
    if kind not in SOURCES:
        raise EmgInputError(
            f"--source {kind}: not one of {', '.join(SOURCES)}, lsl:NAME", source="command line"
        )
    if kind == "replay":
        if len(rest) != 1:
            raise EmgInputError("--source replay needs one PATH", source="command line")
        try:
            return kind, input_path(rest[0])
        except argparse.ArgumentTypeError as error:
            raise EmgInputError(f"--source replay: {error}", source="command line") from None
    if rest:
        raise EmgInputError(f"--source {kind} takes no PATH", source="command line")
    return kind, None


def replay_source(path: Path, args: argparse.Namespace) -> LiveSource:
    """A recording played at ``--speed`` as a live source."""
    recording = read_input(path, args.channel, args.stream)
    return LiveSource(
        recording.channels,
        recording.sample_rate,
        lambda: replay_blocks(recording, args.speed),
        {"source": "replay", "replayed": str(path)},
        recording.metadata.get("mains_hz") if isinstance(recording.metadata, dict) else None,
        recording=recording,
    )


def run_live(args: argparse.Namespace) -> int:
    """``emg live``."""
    check_live_options(args)
    kind, path = _source_kind(args)
    recording = args.record if args.record is not None else kind == "ble"
    opened: dict[str, Any] = {}

    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        lsl_name = lsl_stream_name(kind)
        if lsl_name is not None:
            source = await lsl_source(args, lsl_name)
        elif kind == "ble":
            source = await ble_source(args)
        elif kind == "replay":
            assert path is not None
            source = replay_source(path, args)
        else:
            source = synthetic_source(args)
        session, folder = open_live_session(args, source, console_listener(), recording)
        opened.update(source=source, folder=folder)
        return session, source.blocks

    def note() -> str:
        folder = opened.get("folder")
        return f"recording into {folder}" if folder else "not recording"

    def folder_for(exercise: str) -> Path:
        return session_folder(args.out, exercise, datetime.now())

    with StopSignals() as signals:  # a signal while exporting is noted, not obeyed
        acquisition = show_window(
            prepare,
            f"emg live — {kind}",
            note,
            duration_s=args.duration,
            screenshot=args.screenshot,
            sound=not args.no_sound,
            folder_for=folder_for,
            signals=signals,
            no_window="use --screenshot PNG to draw it off screen, or emg record for the same "
            "stream without a window",
        )
        print(_stopped(acquisition), flush=True)
        if acquisition.session is None:
            return 1
        recorded = acquisition.control.recorded if acquisition.control is not None else []
        claimed = acquisition.session.claimed
        for asked in recorded:
            folder = claimed.get(asked, asked)  # another recording may have had the name
            if not (folder / "session.json").exists():
                continue  # asked for, but no sample came
            # the source's extras (a synthetic set's truth) only fit the session it started
            source = opened["source"] if asked == opened.get("folder") else None
            exported = (
                finish_recording(source, folder, export=not args.no_export)
                if source is not None
                else (export_session(folder) if not args.no_export else None)
            )
            print(f"session in {folder}" + (f", exported to {exported}" if exported else ""))
            if not say_too_short(acquisition.session, folder):  # indexing analyses it
                index_recorded(folder, args)
        return 0


def replay_window(recording: Recording, config: AnalysisConfig, args: argparse.Namespace) -> int:
    """``emg replay`` in the window: pause, seek and speed; every seek runs the analysis
    again from the first sample up to the target (see :mod:`emg.sources.replay_control`)."""
    control = ReplayControl(recording.duration_s, args.speed, hold_at_end=args.screenshot is None)

    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        start = control.take_seek() or 0.0
        session = LiveSession(recording.channels, recording.sample_rate, config)
        return session, lambda: steered_replay_blocks(recording, control, start)

    with StopSignals() as signals:
        acquisition = show_window(
            prepare,
            f"emg replay — {recording.source}",
            lambda: f"replaying {recording.source}",
            duration_s=None,
            screenshot=args.screenshot,
            sound=not args.no_sound,
            control=control,
            again=lambda: control.seek_pending,
            signals=signals,
            no_window="use --headless for the reps and flags without a window, or "
            "--screenshot PNG to draw it off screen",
        )
    print(_stopped(acquisition), flush=True)
    return 0 if acquisition.session is not None else 1


def _stopped(acquisition: Acquisition) -> str:
    session = acquisition.session
    stopped = acquisition.stopped_by or "window closed"
    if session is None:
        return f"stopped ({stopped}) before the source opened: nothing recorded"
    return session_stopped_line(stopped, session)


def show_window(
    prepare: Prepare,
    title: str,
    note: Callable[[], str],
    *,
    duration_s: float | None,
    screenshot: Path | None,
    sound: bool,
    control: ReplayControl | None = None,
    again: Callable[[], bool] | None = None,
    folder_for: FolderFor | None = None,
    signals: StopSignals | None = None,
    no_window: str = "use --screenshot PNG to draw it off screen",
) -> Acquisition:
    """Run acquisition in its thread and the window until it is closed (or, with
    ``screenshot``, until the stream ends and the picture is saved). Ctrl-C, SIGTERM and
    SIGHUP close the window as Q does (the session finalises, ``stopped_by`` names them).

    Parameters
    ----------
    prepare
        Opens the source and its live session, on the acquisition loop.
    title
        Window title.
    note
        What the status line says about recording (asked once the source is open).
    duration_s
        Stop after this much stream time.
    screenshot
        Save the window here at the end and close it; without a display, Qt runs off screen.
    sound
        Whether the warning is audible.
    control, again
        A replay's controls, and whether its acquisition streams again after a seek.
    folder_for
        Where a recording started from the window goes (None: the window cannot record).
    signals
        The stop signals to obey (default: caught for as long as the window runs).
    no_window
        What to do instead when there is no usable display (said in the error).

    Returns
    -------
    Acquisition
        With its session (None when stopped before the source opened), ``stopped_by`` and
        ``error`` (raised here if any).

    Raises
    ------
    EmgInputError
        No usable display (and no ``screenshot``): one line saying why and what to do.
    """
    if screenshot is not None:
        _check_screenshot(screenshot)
    if signals is None:
        with StopSignals() as own:
            return show_window(
                prepare, title, note, duration_s=duration_s, screenshot=screenshot,
                sound=sound, control=control, again=again, folder_for=folder_for,
                signals=own, no_window=no_window,
            )  # fmt: skip
    from PySide6 import QtCore, QtWidgets

    if QtWidgets.QApplication.instance() is None:  # else Qt runs already, on its platform
        problem = display_problem()
        if problem is not None and screenshot is not None:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a picture needs no display
        elif problem is not None:
            raise EmgInputError(
                f"{problem}; {no_window} (see the README, Set-up)",
                source="the live window",
            )
    QtCore.qInstallMessageHandler(_qt_message)

    from emg.ui.alert_sound import AlertSound
    from emg.ui.live_state import LiveState
    from emg.ui.live_window import LiveWindow
    from emg.ui.signal_wakeup import SignalWakeup

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    acquisition = Acquisition(prepare, duration_s, again=again, folder_for=folder_for)
    signals.on_stop(acquisition.stop)  # also while the source opens (a Bluetooth scan)
    session = acquisition.start()
    signals.on_stop(None)
    if session is None:
        return acquisition
    state = LiveState(session.channels, session.sample_rate)
    state.exercise = f"exercise: {session.config.exercise.name}"
    band = session.config.band
    state.band = None if band is None else (band.lead_ms, band.lead_halfwidth_ms)
    if band is not None and band.ratio is not None and band.ratio_halfwidth is not None:
        state.ratio_band = (band.ratio, band.ratio_halfwidth)
    state.recording = note()
    cue = AlertSound(enabled=sound)

    unsaved: list[OSError] = []

    def finished(window: LiveWindow) -> None:
        if screenshot is not None:
            try:
                window.screenshot(screenshot)
                print(f"screenshot saved to {screenshot}", flush=True)
            except OSError as error:  # said once the window has closed
                unsaved.append(error)
            window.close()

    window = LiveWindow(state, acquisition, cue, title, on_finished=finished, control=control)
    wakeup = SignalWakeup(window)

    def stop(reason: str) -> None:
        acquisition.stop(reason)
        QtCore.QTimer.singleShot(0, window.close)

    signals.on_stop(stop)
    window.show()
    app.exec()
    signals.on_stop(None)
    window.close()
    acquisition.join()
    wakeup.close()
    cue.close()
    dispose(window)
    if acquisition.error is not None:
        raise acquisition.error
    if unsaved:
        raise EmgInputError("could not write the screenshot", source=str(screenshot))
    return acquisition


def _check_screenshot(path: Path) -> None:
    """One line, before the stream starts, for a screenshot that could not be written."""
    if path.is_dir():
        raise EmgInputError("the screenshot would replace a folder", source=str(path))
    check_output_suffix(path, (".png",), "a screenshot", "--screenshot")
    if not path.parent.is_dir():
        raise EmgInputError("cannot write the screenshot: no such folder", source=str(path))
    if not os.access(path.parent, os.W_OK):
        raise EmgInputError("cannot write the screenshot: folder not writable", source=str(path))


def _qt_message(mode: Any, context: Any, message: str) -> None:
    """Qt's messages to stderr, less the offscreen plugin's note on every window resize."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def dispose(window: Any) -> None:
    """Delete a window now, while Qt and Python are both alive (PySide6 can abort at
    interpreter exit when widgets are left to the garbage collector)."""
    from PySide6 import QtCore, QtWidgets

    window.deleteLater()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    QtWidgets.QApplication.processEvents()
