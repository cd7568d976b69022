"""``emg report``: one self-contained HTML report about one recorded session."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emg.analysis.history import SessionEntry
from emg.commands.history import add_athlete_options, with_athlete_band
from emg.commands.options import (
    add_chain_options,
    add_channel_option,
    add_overwrite_option,
    add_recruitment_options,
    analysis_config,
    input_path,
    read_input,
    recorded_settings,
)
from emg.errors import EmgInputError
from emg.io.new_output import check_new_output
from emg.io.open_recording import READABLE
from emg.io.output_guard import check_output_path, check_output_suffix, staged
from emg.recording import Recording
from emg.wording import rep_count

if TYPE_CHECKING:
    from emg.report.figures import FigureImage

#: Options that change the analysis settings (given: the report says so).
SETTING_OPTIONS = (
    "highpass",
    "lowpass",
    "mains",
    "envelope_ms",
    "detector",
    "k",
    "hold_ms",
    "rest",
    "exercise",
    "expected_order",
    "margin_ms",
    "flag",
)


def add_parser(commands: Any) -> None:
    """Register ``report``."""
    report = commands.add_parser(
        "report",
        help="write a self-contained HTML report of a session",
        description="Analyse a recording as 'emg analyze' does (a recorded session with the "
        "settings it was recorded with; options given here change them) and write one "
        "self-contained HTML file about it: a plain-language summary for the athlete (reps, "
        "who started them, the hamstring-first flag, the cramp risk and why, the ratio "
        "trend), the envelopes and onsets of every rep, the lead per rep against the order "
        "margin, the ratio trend, a timeline of flags and cramp risk, calibration, "
        "signal-quality and packet-loss notes, and a table of every rep. Images are "
        f"embedded; no network, no script. Reads {READABLE}.",
    )
    report.add_argument("input", type=input_path, metavar="SESSION")
    report.add_argument(
        "--out",
        type=Path,
        metavar="HTML",
        help="the report file to write (default: <SESSION name>-report.html in the current folder)",
    )
    report.add_argument(
        "--png",
        type=Path,
        metavar="DIR",
        help="also write each figure as its own PNG into DIR (created if needed)",
    )
    add_overwrite_option(
        report, "the report and each PNG", "it may be the report of another session"
    )
    add_channel_option(report)
    add_chain_options(report)
    add_recruitment_options(report)
    add_athlete_options(report, "beside the recording")
    report.set_defaults(handler=run_report)


def _history(args: argparse.Namespace, recording: Recording) -> list[SessionEntry]:
    """The athlete's sessions up to and including this one (for the progress section): the
    athlete given, else the one the session was recorded for; none without a database."""
    from emg.athlete_history import default_db, history, session_location

    athlete = args.athlete or recording.metadata.get("athlete")
    db = args.db or default_db(args.input)
    if not athlete or not Path(db).is_file():
        return []
    try:
        entries = history(str(athlete), db)
    except EmgInputError:
        return []
    here = str(session_location(args.input))
    this = next((e for e in entries if e.folder == here), None)
    if this is None:
        return []
    return [e for e in entries if e is this or (e.date or "") <= (this.date or "")]


def default_output(path: Path) -> Path:
    """``<name>-report.html`` in the current folder for a recording at ``path``."""
    name = path.resolve().name
    if name == "session.json":
        name = path.resolve().parent.name
    return Path(f"{Path(name).stem or 'session'}-report.html")


def settings_origin(args: argparse.Namespace, recording: Recording) -> str:
    """Where the analysis settings came from, in words."""
    base = "as recorded" if recorded_settings(recording) else "the defaults"
    changed = [
        "--" + name.replace("_", "-")
        for name in SETTING_OPTIONS
        if getattr(args, name, None) is not None
    ]
    if getattr(args, "mvc", None):
        changed.append("--mvc")
    return base + (f", changed by {' '.join(changed)}" if changed else "")


def run_report(args: argparse.Namespace) -> int:
    """``emg report``.

    Raises
    ------
    EmgInputError
        Naming the recording at fault, or the output that could not be written or that
        exists already (the report or one of its PNGs) without ``--overwrite``.
    """
    from emg.analysis.offline import analyze_recording
    from emg.report.content import build_content
    from emg.report.figures import report_figures
    from emg.report.html import render_html

    out = args.out if args.out is not None else default_output(args.input)
    check_output_path(out, reads=args.input)
    check_output_suffix(out, (".html", ".htm"), "a report", "--out")
    check_new_output(out, args.overwrite)
    if args.png is not None:
        check_output_path(args.png, reads=args.input)
        if args.png.exists() and not args.png.is_dir():  # refused before anything is written
            raise EmgInputError(
                "cannot create the PNG folder: a file has that name", source=str(args.png)
            )
    if not out.parent.is_dir():
        raise EmgInputError("cannot write the report: no such folder", source=str(out))
    recording = read_input(args.input, args.channel, args.stream)
    config = with_athlete_band(analysis_config(args, recording), args, recording, args.input)
    result = analyze_recording(recording, config, keep_envelope=True)
    content = build_content(
        recording, result, settings_origin(args, recording), _history(args, recording)
    )
    figures = report_figures(result, content)
    pngs = [] if args.png is None else png_paths(args.png, figures)
    for path in pngs:  # all refused before any is written
        check_new_output(path, args.overwrite)
    page = render_html(content, figures)
    if args.png is not None:  # made before the report is written: a refusal leaves nothing
        try:
            args.png.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EmgInputError(
                f"cannot create the PNG folder: {error.strerror or error}", source=str(args.png)
            ) from None
    _write(out, page.encode("utf-8"))
    summary = content.summary
    reps = rep_count([r["side"] for r in summary["reps"]], [p["side"] for p in summary["pairs"]])
    print(f"wrote {out} ({reps}; {len(figures)} figures)")
    if args.png is not None:
        for path, figure in zip(pngs, figures, strict=True):
            _write(path, figure.png)
        print(f"wrote {len(figures)} PNGs to {args.png}")
    return 0


def png_paths(folder: Path, figures: list[FigureImage]) -> list[Path]:
    """Where ``--png`` writes each figure.

    Parameters
    ----------
    folder
        The ``--png`` folder.
    figures
        The report's figures.

    Returns
    -------
    list of Path
        ``<name>.png`` in ``folder`` for each figure, in order.
    """
    return [folder / f"{figure.name}.png" for figure in figures]


def _write(path: Path, data: bytes) -> None:
    try:
        with staged(path) as staging:
            staging.write_bytes(data)
    except OSError as error:
        raise EmgInputError(
            f"cannot write the report: {error.strerror or error}", source=str(path)
        ) from None
