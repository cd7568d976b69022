"""Command-line options shared by the analysing subcommands, and the settings they build."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from emg.analysis.exercises import EXERCISES
from emg.analysis.lead import LEADS
from emg.analysis.normalisation import Normalisation
from emg.analysis.offline import MAINS_CHOICES
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.settings import recorded_settings as library_recorded_settings
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.dsp.onset import REFINEMENTS
from emg.errors import EmgInputError
from emg.io.channel_map import parse_channel_overrides
from emg.io.open_recording import open_recording, refuse_empty_path
from emg.order import EXPECTED_ORDERS
from emg.recording import Recording
from emg.settings_resolution import (
    SettingOverrides,
    default_settings,
    resolve_settings,
)
from emg.settings_resolution import normalisation as library_normalisation
from emg.settings_resolution import parse_period as library_parse_period

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
    "reps.lead": "--lead-from",
    "exercise.expected_order": "--expected-order",
    "exercise.flag_count": "--flag",
    "exercise.flag_window": "--flag",
    "exercise": "--exercise",
    "mvc": "--mvc",
    "family": "--family",
    "athlete": "--athlete",
    "snr_db": "--snr-db",
    "leads_ms": "--lead-ms",
    "seeds": "--seeds",
    "reps": "--reps",
    "fs": "--fs",
    "cramp_rep": "--cramp-rep",
    "loss": "--loss",
}


#: The settings of each muscle group's MVC (``normalisation.mvc_uv.glute``), given as --mvc.
MVC_SETTING = "normalisation.mvc_uv."


def option_error(error: SettingError, args: argparse.Namespace | None = None) -> EmgInputError:
    """A setting refused by the library, as an error naming the option that gave it (``args``:
    the options, to say which one a custom exercise lacks)."""
    if error.setting == "exercise" and getattr(args, "exercise", None) == "custom":
        return EmgInputError(
            "--exercise custom needs --expected-order (glute-first, hamstring-first or any)",
            source="command line",
        )
    option = OPTIONS.get(error.setting, error.setting)
    if error.setting.startswith(MVC_SETTING):  # one muscle group's MVC, as --mvc GROUP=...
        option = f"--mvc {error.setting.removeprefix(MVC_SETTING)}"
    refinement = getattr(args, "refinement", None)
    if error.setting == "reps.lead" and refinement:
        # refused with the refinement given: name both options
        option = f"--lead-from {getattr(args, 'lead_from', '')} with --refinement {refinement}"
    return EmgInputError(f"{option}: {error.reason}", source="command line")


def input_path(text: str) -> Path:
    """A recording or capture named on the command line (an ``argparse`` type): an empty
    argument (``''``, an unset shell variable) is refused, where :class:`~pathlib.Path` would
    have taken it for the current folder."""
    try:
        refuse_empty_path(text)
    except EmgInputError as error:
        raise argparse.ArgumentTypeError(error.detail) from None
    return Path(text)


def parse_period(text: str) -> tuple[float, float]:
    """``START-END`` in seconds, for argparse."""
    try:
        return library_parse_period(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_flag_rule(text: str) -> tuple[int, int]:
    """``N/M``: at least N of the last M reps."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected N/M, e.g. 2/3, got '{text}'")
    return int(match[1]), int(match[2])


def add_chain_options(parser: argparse.ArgumentParser) -> None:
    """Signal-chain options (their defaults and sources: the README, "How it works")."""
    group = parser.add_argument_group(
        "signal chain (defaults and their sources: the README, 'How it works')"
    )
    group.add_argument("--highpass", type=float, metavar="HZ", help="band-pass lower edge (20 Hz)")
    group.add_argument(
        "--lowpass",
        type=float,
        metavar="HZ",
        help="band-pass upper edge, limited to 0.45 x sample rate (450 Hz)",
    )
    group.add_argument(
        "--mains",
        choices=MAINS_CHOICES,
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
        help="how an onset is placed before its threshold crossing: cusum-edge (default: "
        "the start of the rising edge, searched from 30 ms before the variance CUSUM's change "
        "point), cusum (the change point itself: late by part of a slow rise), edge (the start "
        "of a rising edge fitted over 400 ms: unbiased by slow recruitment, more scattered at "
        "low SNR), bayes (its posterior median over the rise's shape and ramp), bonato "
        "(Bonato's double threshold) or aglr (the maximum-likelihood start of a variance step, "
        "Staude's AGLR-step)",
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
        "--lead-from",
        choices=list(LEADS),
        help="with --refinement cusum-edge, edge or bayes, where the lead comes from: edges "
        "(default: "
        "the steady lead moved towards the fitted edges' where the two disagree; unbiased by "
        "a slowly recruiting muscle, more scattered at 5-10 dB) or steady (the CUSUM change "
        "points and the rise alignment alone: the CUSUM's lead and orders, with the edges' "
        "onsets). The other refinements fit no edge: their lead is always steady, and "
        "edges is refused with them. A recorded session keeps the one it was recorded with",
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


def setting_overrides(args: argparse.Namespace) -> SettingOverrides:
    """The settings the analysis options of ``args`` give (each absent one None)."""
    return SettingOverrides(
        chain={
            "highpass_hz": getattr(args, "highpass", None),
            "lowpass_hz": getattr(args, "lowpass", None),
            "envelope_s": None if args.envelope_ms is None else args.envelope_ms / 1000,
            "detector": args.detector,
            "k": args.k,
            "hold_s": None if args.hold_ms is None else args.hold_ms / 1000,
            "rest": args.rest,
        },
        refinement=getattr(args, "refinement", None),
        mains=getattr(args, "mains", None),
        exercise=getattr(args, "exercise", None),
        expected_order=getattr(args, "expected_order", None),
        margin_ms=getattr(args, "margin_ms", None),
        flag=getattr(args, "flag", None),
        mvc=mvc_sources(getattr(args, "mvc", None) or []),
        lead=getattr(args, "lead_from", None),
    )


def mvc_sources(specs: list[str]) -> dict[str, str]:
    """``--mvc MUSCLE=SOURCE`` options as a mapping (the last one of a muscle counts).

    Raises
    ------
    EmgInputError
        For an option without ``=``.
    """
    sources: dict[str, str] = {}
    for spec in specs:
        group, equals, source = spec.partition("=")
        if not equals or not source.strip():
            raise EmgInputError(
                f"--mvc expects glute=SOURCE or hamstring=SOURCE, got '{spec}'",
                source="command line",
            )
        sources[group] = source
    return sources


def default_config(args: argparse.Namespace) -> AnalysisConfig:
    """The settings of sets with no recording (synthetic validation), or the check of the
    options before any recording is read: the defaults with the chain, exercise and
    rep options given (:func:`emg.settings_resolution.default_settings`)."""
    try:
        return default_settings(setting_overrides(args))
    except SettingError as error:
        raise option_error(error, args) from None


def normalisation(specs: list[str], recording: Recording, config: ChainConfig) -> Normalisation:
    """MVC references from ``--mvc`` options.

    Raises
    ------
    EmgInputError
        Naming the option or the file at fault.
    """
    try:
        return library_normalisation(mvc_sources(specs), recording, config)
    except SettingError as error:
        raise option_error(error) from None


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
    """All analysis settings for ``recording`` (:func:`emg.settings_resolution.resolve_settings`
    with the options given).

    Raises
    ------
    EmgInputError
        Naming the option, the field of the recorded settings or the recording at fault:
        a setting out of range, a band-pass the recording's sample rate cannot hold, a
        recording too short or sampled too slowly for the analysis.
    """
    overrides = setting_overrides(args)
    try:
        return resolve_settings(recording, overrides)
    except SettingError as error:
        raise option_error(error, args) from None


def add_overwrite_option(
    parser: argparse.ArgumentParser, what: str, why: str = "it may be a recording"
) -> None:
    """``--overwrite``: replace ``what`` if it exists (refused otherwise, because ``why``)."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace {what} if it exists (refused otherwise: {why})",
    )


def read_input(path: str | Path, channel: list[str] | None, stream: str | None) -> Recording:
    """The recording at ``path``, its channels named by ``--channel`` and its XDF stream
    chosen by ``--stream`` (:func:`add_channel_option`); messages name those options. What
    the reader skipped in a damaged file (an event line that is not an event) is said on
    standard error, one line each (``emg: warning: ...``).

    Raises
    ------
    EmgInputError
        Naming the file, field or option at fault.
    """
    overrides = parse_channel_overrides(channel or [])
    return open_recording(path, overrides or None, stream, notify=_warn)


def _warn(line: str) -> None:
    """One line on standard error, as ``emg: error:`` lines are."""
    print(f"emg: warning: {line}", file=sys.stderr)


def add_profiles_option(parser: argparse.ArgumentParser) -> None:
    """``--profiles DIR`` (repeatable): the built-in sensor profiles and DIR's, as ``emg scan``,
    ``record``, ``live``, ``profiles`` and ``decode`` all load them."""
    parser.add_argument(
        "--profiles",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="also read sensor profiles (*.toml) from DIR; one there replaces a built-in "
        "profile of the same name (e.g. a copy of emg-stream-v1 that asks for bigger packets "
        "on a slow computer)",
    )


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
    parser.add_argument(
        "--stream",
        metavar="NAME",
        help="in an XDF file with several EMG streams, the one to read (its name or source id)",
    )
