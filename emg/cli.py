"""The ``emg`` command."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from emg.analysis.summary import format_table
from emg.commands import devices, emulate, export, history, live, record, report, scan, validate
from emg.commands.analyze import analyze_input
from emg.commands.batch import add_batch_options, is_batch, run_batch
from emg.commands.history import athlete_option
from emg.commands.options import (
    add_chain_options,
    add_channel_option,
    add_overwrite_option,
    add_recruitment_options,
)
from emg.commands.synthetic_options import add_synthetic_options, synth_config
from emg.errors import EmgDeviceError, EmgInputError
from emg.io.batch_inputs import refuse_empty_paths
from emg.io.csv_format import write_emg_csv
from emg.io.json_files import to_json, truth_path, write_json
from emg.io.new_output import check_new_output
from emg.io.open_recording import READABLE
from emg.io.output_guard import check_output_path, check_output_suffix
from emg.sources.synthetic import DEMO_SET, SynthConfig, generate_session
from emg.version import __version__

DESCRIPTION = """\
emg: wearable surface EMG for the glute/hamstring pattern in hip thrusts.
Finds, rep by rep, which muscle switches on first and warns when the hamstrings lead.
A training aid, not a medical device."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as every other of ``emg``'s (the usage
    is one ``--help`` away; its subcommands' parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"emg: error: command line: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``emg`` command."""
    parser = _Parser(
        prog="emg", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"emg {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="generate the built-in synthetic hip-thrust set and analyse it",
        description="Generate the built-in synthetic set (4 glute-first reps, then 4 "
        "hamstring-first) and analyse it, next to the ground truth.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="also keep the set as DIR/demo.csv with DIR/demo.truth.json",
    )
    demo.add_argument("--json", action="store_true", help="print JSON instead of a table")
    demo.set_defaults(handler=_run_demo)

    synth = commands.add_parser(
        "synth",
        help="write a synthetic set with known ground truth",
        description="Write a synthetic hip-thrust set as CSV (time, one column per muscle, "
        "microvolts) and its ground truth as OUT.truth.json.",
    )
    synth.add_argument("out", type=Path, metavar="OUT.csv")
    add_overwrite_option(synth, "OUT.csv and OUT.truth.json")
    add_synthetic_options(synth, SynthConfig())
    synth.set_defaults(handler=_run_synth)

    analyze = commands.add_parser(
        "analyze",
        help="reps, onset order, ratio, flags and bursts of a recording (or of many, on Dask)",
        description="Run a recording through the streaming analysis: every burst per channel "
        "(onset, offset, peak) and, for each glute/hamstring pair (per side), every rep with "
        "its onset order, lead, glute:hamstring ratio and the moment it was decided, the "
        f"hamstring-first flag and the cramp risk. Reads {READABLE}; channels are named by "
        "their muscle (glute, hamstring_left, ...) or with --channel. A recorded session is "
        "analysed with the settings it was recorded with; options given here change them. "
        "Several paths, glob patterns ('data/**/*.csv') or a folder of recordings (searched "
        "recursively for .csv, .bdf, .edf and .xdf files; a session folder is one recording, "
        "a BIDS dataset one per EMG file) are analysed in parallel on Dask, each exactly as "
        "alone, into one table of every rep (--out).",
    )
    analyze.add_argument(
        "inputs",
        nargs="+",
        metavar="PATH",
        help="a recording; for a batch also several, folders and glob patterns",
    )
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_channel_option(analyze)
    add_chain_options(analyze)
    add_recruitment_options(analyze)
    add_batch_options(analyze)
    history.add_athlete_options(analyze, "beside the recording")
    analyze.set_defaults(handler=_run_analyze)
    validate.add_parser(commands)
    record.add_parsers(commands)
    live.add_parser(commands)
    report.add_parser(commands)
    export.add_parser(commands)
    devices.add_parsers(commands)
    scan.add_parser(commands)
    emulate.add_parser(commands)
    history.add_parsers(commands)
    return parser


def _run_analyze(args: argparse.Namespace) -> int:
    refuse_empty_paths(args.inputs, source="command line")
    if is_batch(args):
        if args.athlete:
            raise EmgInputError(
                "--athlete indexes one recording at a time: leave it out of a batch",
                source="command line",
            )
        return run_batch(args)
    athlete_option(args)
    summary, recording = analyze_input(Path(args.inputs[0]), args)
    indexed = None
    if args.athlete:  # before printing: a session the history refuses prints nothing
        from emg.athlete_history import default_db, index_session

        db = args.db or default_db(args.inputs[0])
        entry = index_session(summary, recording, args.athlete, args.inputs[0], db)
        indexed = f"indexed {len(entry.reps)} reps under {entry.athlete} in {db}"
    print(to_json(summary) if args.json else format_table(summary))
    if indexed is not None:  # said as emg record says it (beside JSON: on stderr)
        print(indexed, file=sys.stderr if args.json else sys.stdout)
    return 0


def _run_synth(args: argparse.Namespace) -> int:
    config = synth_config(args, SynthConfig())  # its refusals name the option already
    try:
        session = generate_session(config)
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None
    for out in (args.out, truth_path(args.out)):
        check_output_path(out)
    check_output_suffix(args.out, (".csv",), "a synthetic set", "OUT.csv")
    for out in (args.out, truth_path(args.out)):
        check_new_output(out, args.overwrite)
    write_emg_csv(args.out, session.recording)
    write_json(truth_path(args.out), session.truth)
    recording = session.recording
    print(
        f"wrote {args.out} ({recording.duration_s:.1f} s, {len(recording.channels)} channels at "
        f"{recording.sample_rate:g} Hz) and {truth_path(args.out)}"
    )
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    session = generate_session(DEMO_SET)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.out or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / "demo.csv"
        write_emg_csv(csv_path, session.recording)
        write_json(truth_path(csv_path), session.truth)
        defaults = build_parser().parse_args(["analyze", str(csv_path)])
        summary, _ = analyze_input(csv_path, defaults)
    summary["file"] = "built-in synthetic set" + (f" ({csv_path})" if args.out else "")
    if args.json:
        print(to_json({**summary, "truth": session.truth}))
        return 0
    print(format_table(summary))
    print("\nGround truth (true onsets, s):")
    print(f"  {'rep':>3}  {'glute':>8}  {'hamstring':>9}  {'lead ms':>8}  order")
    for rep in session.truth["reps"]:
        print(
            f"  {rep['index']:>3}  {rep['glute_onset_s']:>8.3f}  {rep['hamstring_onset_s']:>9.3f}"
            f"  {rep['lead_ms']:>8.0f}  {rep['order']}"
        )
    return 0


#: Options that take a list of numbers, which may start with a negative one.
_NUMBER_LISTS = ("--lead-ms", "--snr-db")


def _join_negative_lists(argv: list[str]) -> list[str]:
    """Let ``--lead-ms -80,-60`` (and ``--snr-db -5,0``) through: argparse would take
    ``-80,-60`` for an option."""
    joined: list[str] = []
    for token in argv:
        if joined and joined[-1] in _NUMBER_LISTS and re.fullmatch(r"-[\d.]+(,[-\d.]+)*", token):
            joined[-1] = f"{joined[-1]}={token}"
        else:
            joined.append(token)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``emg`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(_join_negative_lists(list(sys.argv[1:] if argv is None else argv)))
    try:
        status: int = args.handler(args)
    except EmgInputError as error:
        print(f"emg: error: {error}", file=sys.stderr)
        return 2
    except EmgDeviceError as error:
        print(f"emg: sensor error: {error}", file=sys.stderr)
        return 3
    except BrokenPipeError:
        return 0
    except OSError as error:  # a path the command could not read or write
        where = f"{error.filename}: " if error.filename else ""
        print(f"emg: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
