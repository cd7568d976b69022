"""Command-line options shared by the analysing subcommands, and the settings they build."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

from emg.analysis.calibration import mvc_from_recording
from emg.analysis.exercises import EXERCISES, EXPECTED_ORDERS, ExerciseConfig, exercise_preset
from emg.analysis.normalisation import Normalisation
from emg.analysis.offline import resolve_mains
from emg.analysis.pipeline import AnalysisConfig
from emg.dsp.chain import ChainConfig
from emg.errors import EmgInputError
from emg.io.csv_format import read_emg_csv
from emg.recording import Recording


def parse_period(text: str) -> tuple[float, float]:
    """``START-END`` in seconds, for argparse."""
    try:
        start, stop = (float(v) for v in text.split("-", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected START-END in seconds, e.g. 0-3, got '{text}'"
        ) from None
    if stop <= start:
        raise argparse.ArgumentTypeError(f"period end must be after its start: '{text}'")
    return start, stop


def parse_flag_rule(text: str) -> tuple[int, int]:
    """``N/M``: at least N of the last M reps."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected N/M, e.g. 2/3, got '{text}'")
    return int(match[1]), int(match[2])


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """Signal-chain options (defaults from DESIGN.md)."""
    group = parser.add_argument_group("signal chain (defaults from DESIGN.md)")
    group.add_argument(
        "--highpass", type=float, default=20.0, metavar="HZ", help="band-pass lower edge (20 Hz)"
    )
    group.add_argument(
        "--lowpass",
        type=float,
        default=450.0,
        metavar="HZ",
        help="band-pass upper edge, limited to 0.45 x sample rate (450 Hz)",
    )
    group.add_argument(
        "--mains",
        default="auto",
        choices=["auto", "off", "50", "60"],
        help="mains notch: auto picks 50/60 Hz from the rest spectrum (default)",
    )
    group.add_argument(
        "--envelope-ms", type=float, default=50.0, help="trailing RMS window, 25-250 ms (50)"
    )
    group.add_argument(
        "--detector",
        choices=["rms", "tkeo"],
        default="rms",
        help="onset detector: RMS envelope or Teager-Kaiser energy (low SNR)",
    )
    group.add_argument(
        "-k", type=float, default=3.0, help="onset threshold in baseline SDs above its mean (3)"
    )
    group.add_argument(
        "--hold-ms",
        type=float,
        default=ChainConfig.hold_s * 1000,
        help=f"time the envelope must stay above threshold ({ChainConfig.hold_s * 1000:g} ms)",
    )
    group.add_argument(
        "--rest",
        type=parse_period,
        metavar="START-END",
        help="quiet rest period in seconds for the baseline, e.g. 0-3 "
        "(default: robust noise-floor estimate)",
    )


def add_recruitment_options(parser: argparse.ArgumentParser) -> None:
    """Exercise, flag and normalisation options."""
    group = parser.add_argument_group("recruitment (reps, order, ratio, flag)")
    group.add_argument(
        "--exercise",
        default="hip-thrust",
        choices=[*EXERCISES, "custom"],
        help="sets the expected onset order: glutes first in the hip thrust (default) and "
        "squat; any order in prone hip extension (hamstring-first is normal there)",
    )
    group.add_argument(
        "--expected-order",
        choices=EXPECTED_ORDERS,
        help="expected order for --exercise custom (or to override a preset)",
    )
    group.add_argument(
        "--margin-ms",
        type=float,
        help="onsets closer than this are 'simultaneous' (preset: 50 ms; squat 100 ms)",
    )
    group.add_argument(
        "--flag",
        type=parse_flag_rule,
        metavar="N/M",
        help="raise the flag when N of the last M reps have the unexpected order (2/3)",
    )
    group.add_argument(
        "--mvc",
        action="append",
        default=[],
        metavar="MUSCLE=SOURCE",
        help="MVC calibration per muscle, giving levels in %%MVC: glute=FILE (a trial), "
        "glute=FILE:START-END (a segment of it), glute=START-END (a marked segment of the "
        "input) or glute=310uv (a known value). Without: multiples of rest RMS",
    )


def chain_config(args: argparse.Namespace) -> ChainConfig:
    """The :class:`ChainConfig` of parsed options."""
    try:
        return ChainConfig(
            highpass_hz=args.highpass,
            lowpass_hz=args.lowpass,
            envelope_s=args.envelope_ms / 1000,
            detector=args.detector,
            k=args.k,
            offset_k=min(ChainConfig.offset_k, args.k),
            hold_s=args.hold_ms / 1000,
            rest=args.rest,
        )
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None


def exercise_config(args: argparse.Namespace) -> ExerciseConfig:
    """The :class:`ExerciseConfig` of parsed options (preset plus overrides)."""
    if args.exercise == "custom":
        if args.expected_order is None:
            raise EmgInputError(
                "--exercise custom needs --expected-order (glute-first, hamstring-first or any)",
                source="command line",
            )
        base = ExerciseConfig("custom", args.expected_order)
    else:
        base = exercise_preset(args.exercise)
    changes: dict[str, object] = {}
    if args.expected_order is not None:
        changes["expected_order"] = args.expected_order
    if args.margin_ms is not None:
        changes["margin_ms"] = args.margin_ms
    if args.flag is not None:
        changes["flag_count"], changes["flag_window"] = args.flag
    try:
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None


def normalisation(specs: list[str], recording: Recording, config: ChainConfig) -> Normalisation:
    """MVC references from ``--mvc`` options.

    Raises
    ------
    EmgInputError
        Naming the option or the file at fault.
    """
    mvc: dict[str, float] = {}
    for spec in specs:
        group, _, source = spec.partition("=")
        group = group.strip().lower()
        if group not in ("glute", "hamstring") or not source:
            raise EmgInputError(
                f"--mvc expects glute=SOURCE or hamstring=SOURCE, got '{spec}'",
                source="command line",
            )
        mvc[group] = _mvc_value(group, source.strip(), recording, config)
    try:
        result = Normalisation(mvc)
        result.method()
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None
    return result


def _mvc_value(group: str, source: str, recording: Recording, config: ChainConfig) -> float:
    if re.fullmatch(r"[\d.]+\s*uv", source, flags=re.IGNORECASE):
        return float(source[:-2])
    period: tuple[float, float] | None = None
    path_text = source
    match = re.fullmatch(r"(?:(.*):)?([\d.]+-[\d.]+)", source)
    if match:
        path_text = match[1] or ""
        period = parse_period(match[2])
    trial = recording if not path_text else read_emg_csv(Path(path_text))
    trial_config = resolve_mains(trial, config, "auto") if path_text else config
    try:
        return mvc_from_recording(trial, group, trial_config, period)
    except ValueError as error:
        raise EmgInputError(
            f"MVC of {group}: {error}", source=path_text or recording.source or None
        ) from None


def analysis_config(args: argparse.Namespace, recording: Recording) -> AnalysisConfig:
    """All analysis settings of parsed options, for ``recording`` (mains resolved on it)."""
    chain = resolve_mains(recording, chain_config(args), args.mains)
    return AnalysisConfig(
        chain=chain,
        exercise=exercise_config(args),
        normalisation=normalisation(args.mvc, recording, chain),
    )
