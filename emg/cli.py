"""The ``emg`` command."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from emg import __version__
from emg.analysis.offline import analyze_recording
from emg.analysis.summary import format_table, summarize
from emg.commands import validate
from emg.commands.options import add_chain_options, add_recruitment_options, analysis_config
from emg.errors import EmgInputError
from emg.io.csv_format import read_emg_csv, write_emg_csv
from emg.io.json_files import to_json, truth_path, write_json
from emg.sources.synthetic import SynthConfig, generate_session

DESCRIPTION = """\
emg: wearable surface EMG for the glute/hamstring pattern in hip thrusts.
Finds, rep by rep, which muscle switches on first and warns when the hamstrings lead.
A training aid, not a medical device."""

#: The built-in demo set: glute-first reps, then the hamstrings take over.
DEMO_SET = SynthConfig(
    reps=8,
    lead_ms=(90.0, 110.0, 80.0, 100.0, -90.0, -120.0, -100.0, -130.0),
    snr_db=15.0,
    seed=7,
    mains_uv=8.0,
    artefact_uv=40.0,
    crosstalk=0.03,
    fatigue=0.15,
)


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.replace(" ", ",").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got '{text}'"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``emg`` command."""
    parser = argparse.ArgumentParser(
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
    synth.add_argument("--reps", type=int, default=10, help="number of reps (default 10)")
    synth.add_argument(
        "--lead-ms",
        type=_floats,
        default=[80.0],
        metavar="MS[,MS...]",
        help="hamstring onset minus glute onset (negative: hamstrings first); one "
        "value for all reps or one per rep (default 80)",
    )
    synth.add_argument("--snr-db", type=float, default=20.0, help="signal-to-noise ratio (20)")
    synth.add_argument("--fs", type=float, default=2000.0, help="sample rate in Hz (2000)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (0)")
    synth.add_argument("--sides", action="store_true", help="left and right channels")
    synth.add_argument("--ramp-ms", type=float, default=50.0, help="onset ramp (50 ms)")
    synth.add_argument("--noise-uv", type=float, default=5.0, help="electrode noise RMS (5 uV)")
    synth.add_argument(
        "--mains", type=float, default=50.0, choices=[50.0, 60.0], help="mains frequency (50)"
    )
    synth.add_argument(
        "--mains-uv", type=float, default=0.0, help="mains interference RMS in uV (0 = off)"
    )
    synth.add_argument(
        "--artefact-uv",
        type=float,
        default=0.0,
        help="motion artefact amplitude in uV, below 20 Hz (0 = off)",
    )
    synth.add_argument(
        "--crosstalk",
        type=float,
        default=0.0,
        help="fraction of each muscle picked up by the other sensor (0)",
    )
    synth.add_argument(
        "--fatigue",
        type=float,
        default=0.0,
        help="relative fall of the median frequency over the set, e.g. 0.2 (0)",
    )
    synth.add_argument(
        "--cramp-rep",
        type=int,
        default=0,
        help="rep at which a hamstring cramp episode starts (0 = none)",
    )
    synth.add_argument(
        "--loss", type=float, default=0.0, help="probability of losing each 20 ms packet (0)"
    )
    synth.set_defaults(handler=_run_synth)

    analyze = commands.add_parser(
        "analyze",
        help="reps, onset order, ratio, flags and bursts of a recording (CSV)",
        description="Run a recording through the streaming analysis: every burst per channel "
        "(onset, offset, peak) and, for each glute/hamstring pair (per side), every rep with "
        "its onset order, lead, glute:hamstring ratio and the moment it was decided, the "
        "hamstring-first flag and the cramp risk. Input: CSV with a 'time' column in "
        "seconds and one column per muscle in microvolts.",
    )
    analyze.add_argument("input", type=Path, metavar="INPUT")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_chain_options(analyze)
    add_recruitment_options(analyze)
    analyze.set_defaults(handler=_run_analyze)
    validate.add_parser(commands)
    return parser


def _analyze(path: Path, args: argparse.Namespace) -> dict[str, object]:
    recording = read_emg_csv(path)
    result = analyze_recording(recording, analysis_config(args, recording))
    return summarize(result, recording)


def _run_analyze(args: argparse.Namespace) -> int:
    summary = _analyze(args.input, args)
    print(to_json(summary) if args.json else format_table(summary))
    return 0


def _run_synth(args: argparse.Namespace) -> int:
    leads = args.lead_ms
    try:
        config = SynthConfig(
            reps=args.reps,
            lead_ms=leads[0] if len(leads) == 1 else tuple(leads),
            snr_db=args.snr_db,
            fs=args.fs,
            seed=args.seed,
            sides=args.sides,
            ramp_s=args.ramp_ms / 1000,
            noise_uv=args.noise_uv,
            mains_hz=args.mains,
            mains_uv=args.mains_uv,
            artefact_uv=args.artefact_uv,
            crosstalk=args.crosstalk,
            fatigue=args.fatigue,
            cramp_rep=args.cramp_rep,
            loss=args.loss,
        )
        session = generate_session(config)
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None
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
        summary = _analyze(csv_path, defaults)
    summary["file"] = "built-in synthetic set" + (f" ({csv_path})" if args.out else "")
    if args.json:
        summary["truth"] = session.truth
        print(to_json(summary))
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


def _join_negative_lists(argv: list[str]) -> list[str]:
    """Let ``--lead-ms -80,-60`` through: argparse would take ``-80,-60`` for an option."""
    joined: list[str] = []
    for token in argv:
        if joined and joined[-1] == "--lead-ms" and re.fullmatch(r"-[\d.]+(,[-\d.]+)*", token):
            joined[-1] = f"--lead-ms={token}"
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
    except BrokenPipeError:
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
