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
from emg.analysis.pipeline import AnalysisConfig, check_part_values
from emg.analysis.settings import recorded_settings as library_recorded_settings
from emg.analysis.settings import settings_source
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.dsp.onset import REFINEMENTS
from emg.errors import EmgInputError
from emg.io.open_recording import open_recording
from emg.recording import Recording

#: The option that sets each setting (``part.field``), for messages about the command line.
OPTIONS: dict[str, str] = {
    "chain.highpass_hz": "--highpass",
    "chain.lowpass_hz": "--lowpass",
    "chain.envelope_s": "--envelope-ms",
    "chain.detector": "--detector",
    "chain.refinement": "--refinement",
    "chain.k": "-k",
    "chain.offset_k": "-k",
    "chain.hold_s": "--hold-ms",
    "chain.rest": "--rest",
    "chain.mains_hz": "--mains",
    "exercise.margin_ms": "--margin-ms",
    "exercise.expected_order": "--expected-order",
    "exercise.flag_count": "--flag",
    "exercise.flag_window": "--flag",
}


def option_error(error: SettingError, part: str = "chain") -> EmgInputError:
    """A setting refused by the library, as an error naming the option that gave it."""
    setting = error.setting if "." in error.setting else f"{part}.{error.setting}"
    option = OPTIONS.get(setting, setting)
    return EmgInputError(f"{option}: {error.reason}", source="command line")


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
    group.add_argument("--highpass", type=float, metavar="HZ", help="band-pass lower edge (20 Hz)")
    group.add_argument(
        "--lowpass",
        type=float,
        metavar="HZ",
        help="band-pass upper edge, limited to 0.45 x sample rate (450 Hz)",
    )
    group.add_argument(
        "--mains",
        choices=["auto", "off", "50", "60"],
        help="mains notch: auto picks 50/60 Hz from the rest spectrum (default; a recorded "
        "session keeps the notch it was recorded with)",
    )
    group.add_argument("--envelope-ms", type=float, help="trailing RMS window, 25-250 ms (50)")
    group.add_argument(
        "--detector",
        choices=["rms", "tkeo"],
        help="onset detector: RMS envelope or Teager-Kaiser energy (low SNR)",
    )
    group.add_argument(
        "--refinement",
        choices=sorted(REFINEMENTS),
        help="how an onset is placed before its threshold crossing: cusum (a variance "
        "CUSUM, default), edge (the start of a fitted rising edge: unbiased by slow "
        "recruitment, more scattered at low SNR) or bonato (Bonato's double threshold)",
    )
    group.add_argument("-k", type=float, help="onset threshold in baseline SDs above its mean (3)")
    group.add_argument(
        "--hold-ms",
        type=float,
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
        choices=[*EXERCISES, "custom"],
        help="sets the expected onset order: glutes first in the hip thrust (default) and "
        "squat; any order in prone hip extension (hamstring-first is normal there). A "
        "recorded session keeps the exercise it was recorded with",
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


def chain_config(args: argparse.Namespace, base: ChainConfig | None = None) -> ChainConfig:
    """``base`` (default: DESIGN.md's defaults) with the chain options that were given."""
    base = base or ChainConfig()
    given = {
        "highpass_hz": args.highpass,
        "lowpass_hz": args.lowpass,
        "envelope_s": None if args.envelope_ms is None else args.envelope_ms / 1000,
        "detector": args.detector,
        "k": args.k,
        "hold_s": None if args.hold_ms is None else args.hold_ms / 1000,
        "rest": args.rest,
    }
    changes = {name: value for name, value in given.items() if value is not None}
    if args.k is not None:
        changes["offset_k"] = min(ChainConfig.offset_k, args.k)
    try:
        config = dataclasses.replace(base, **changes)
        refinement = getattr(args, "refinement", None)
        return config if refinement is None else config.with_refinement(refinement)
    except SettingError as error:
        raise option_error(error) from None
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None


def exercise_config(args: argparse.Namespace, base: ExerciseConfig | None = None) -> ExerciseConfig:
    """The exercise of parsed options: the preset named (else ``base``, else the hip thrust),
    with the overrides given."""
    if args.exercise == "custom":
        if args.expected_order is None:
            raise EmgInputError(
                "--exercise custom needs --expected-order (glute-first, hamstring-first or any)",
                source="command line",
            )
        base = ExerciseConfig("custom", args.expected_order)
    elif args.exercise is not None:
        base = exercise_preset(args.exercise)
    base = base or ExerciseConfig()
    changes: dict[str, object] = {}
    if args.expected_order is not None:
        changes["expected_order"] = args.expected_order
    if args.margin_ms is not None:
        changes["margin_ms"] = args.margin_ms
    if args.flag is not None:
        changes["flag_count"], changes["flag_window"] = args.flag
    try:
        config = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
        check_part_values("exercise", dataclasses.asdict(config))
    except SettingError as error:
        raise option_error(error, "exercise") from None
    except ValueError as error:
        raise EmgInputError(str(error), source="command line") from None
    return config


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
    trial = recording if not path_text else open_recording(Path(path_text))
    trial_config = resolve_mains(trial, config, "auto") if path_text else config
    try:
        return mvc_from_recording(trial, group, trial_config, period)
    except ValueError as error:
        raise EmgInputError(
            f"MVC of {group}: {error}", source=path_text or recording.source or None
        ) from None


def recorded_settings(recording: Recording) -> AnalysisConfig | None:
    """The analysis settings a session was recorded with, if it keeps them
    (:func:`emg.analysis.settings.recorded_settings`).

    Raises
    ------
    EmgInputError
        If the settings kept are damaged, naming the file and field.
    """
    return library_recorded_settings(recording)


def analysis_config(args: argparse.Namespace, recording: Recording) -> AnalysisConfig:
    """All analysis settings for ``recording``: those it was recorded with (if it keeps them,
    else DESIGN.md's defaults), changed by the options given; mains resolved on it.

    Raises
    ------
    EmgInputError
        Naming the option, the field of the recorded settings or the recording at fault:
        a setting out of range, a band-pass the recording's sample rate cannot hold, a
        recording too short or sampled too slowly for the analysis.
    """
    stored = recorded_settings(recording)
    base = stored or AnalysisConfig()
    chain = chain_config(args, base.chain)
    _check_rate(chain, recording, args, stored is not None)
    mains = args.mains if args.mains is not None else (None if stored else "auto")
    if mains is not None:
        chain = resolve_mains(recording, chain, mains)
    return dataclasses.replace(
        base,
        chain=chain,
        exercise=exercise_config(args, base.exercise),
        normalisation=(
            normalisation(args.mvc, recording, chain) if args.mvc else base.normalisation
        ),
    )


def _check_rate(
    chain: ChainConfig, recording: Recording, args: argparse.Namespace, recorded: bool
) -> None:
    """The band-pass at the recording's rate, blamed on the option that set it, else on the
    recorded settings, else on the recording."""
    try:
        chain.check_rate(recording.sample_rate)
    except SettingError as error:
        if args.highpass is not None or args.lowpass is not None:
            option = "--highpass" if args.highpass is not None else "--lowpass"
            raise EmgInputError(f"{option}: {error.reason}", source="command line") from None
        if recorded:
            raise EmgInputError(
                f"field 'analysis.chain.{error.setting}': {error.reason}",
                source=settings_source(recording),
            ) from None
        raise EmgInputError(error.reason, source=recording.source or None) from None
    except EmgInputError as error:
        raise EmgInputError(error.detail, source=recording.source or None) from None
