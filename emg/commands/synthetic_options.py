"""Options that describe a synthetic set (``emg synth``, ``emg record --source synthetic``)."""

from __future__ import annotations

import argparse
import dataclasses

from emg.errors import EmgInputError
from emg.sources.synthetic import SynthConfig


#: The built-in demo set: glute-first reps, then the hamstrings take over.
def floats(text: str) -> list[float]:
    """``"80"`` or ``"-80,-60,20"`` -> numbers, for argparse."""
    try:
        return [float(v) for v in text.replace(" ", ",").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got '{text}'"
        ) from None


def add_synthetic_options(parser: argparse.ArgumentParser, defaults: SynthConfig) -> None:
    """Options of a synthetic set; unset ones keep ``defaults``."""
    group = parser.add_argument_group("synthetic set")
    group.add_argument("--reps", type=int, help=f"number of reps ({defaults.reps})")
    group.add_argument(
        "--lead-ms",
        type=floats,
        metavar="MS[,MS...]",
        help="hamstring onset minus glute onset (negative: hamstrings first); one value for "
        f"all reps or one per rep ({_leads(defaults)})",
    )
    group.add_argument("--snr-db", type=float, help=f"signal-to-noise ratio ({defaults.snr_db:g})")
    group.add_argument("--fs", type=float, help=f"sample rate in Hz ({defaults.fs:g})")
    group.add_argument("--seed", type=int, help=f"random seed ({defaults.seed})")
    group.add_argument("--sides", action="store_const", const=True, help="left and right channels")
    group.add_argument("--ramp-ms", type=float, help=f"onset ramp ({defaults.ramp_s * 1e3:g} ms)")
    group.add_argument(
        "--noise-uv", type=float, help=f"electrode noise RMS ({defaults.noise_uv:g} uV)"
    )
    group.add_argument(
        "--mains-hz", type=float, choices=[50.0, 60.0], help=f"mains ({defaults.mains_hz:g} Hz)"
    )
    group.add_argument(
        "--mains-uv", type=float, help=f"mains interference RMS, 0 = off ({defaults.mains_uv:g})"
    )
    group.add_argument(
        "--artefact-uv",
        type=float,
        help=f"motion artefacts below 20 Hz, 0 = off ({defaults.artefact_uv:g} uV)",
    )
    group.add_argument(
        "--crosstalk",
        type=float,
        help=f"fraction of each muscle picked up by the other sensor ({defaults.crosstalk:g})",
    )
    group.add_argument(
        "--fatigue",
        type=float,
        help=f"relative fall of the median frequency over the set, e.g. 0.2 ({defaults.fatigue:g})",
    )
    group.add_argument(
        "--cramp-rep", type=int, help="rep at which a hamstring cramp episode starts (0 = none)"
    )
    group.add_argument(
        "--loss", type=float, help=f"probability of losing each 20 ms packet ({defaults.loss:g})"
    )


#: The options of a synthetic set: (their argparse name, as written).
SYNTHETIC_OPTIONS = (
    ("reps", "--reps"),
    ("lead_ms", "--lead-ms"),
    ("snr_db", "--snr-db"),
    ("fs", "--fs"),
    ("seed", "--seed"),
    ("sides", "--sides"),
    ("ramp_ms", "--ramp-ms"),
    ("noise_uv", "--noise-uv"),
    ("mains_hz", "--mains-hz"),
    ("mains_uv", "--mains-uv"),
    ("artefact_uv", "--artefact-uv"),
    ("crosstalk", "--crosstalk"),
    ("fatigue", "--fatigue"),
    ("cramp_rep", "--cramp-rep"),
    ("loss", "--loss"),
)


def given_synthetic_options(args: argparse.Namespace) -> list[str]:
    """The synthetic-set options given on the command line (as written)."""
    return [flag for name, flag in SYNTHETIC_OPTIONS if getattr(args, name, None) is not None]


def _leads(config: SynthConfig) -> str:
    leads = config.leads_ms()
    if len(set(leads)) == 1:
        return f"{leads[0]:g}"
    return (
        ",".join(f"{v:g}" for v in leads) + "; with --reps, the first half's leads for the "
        "first half of the reps and the second half's for the rest"
    )


def synth_config(args: argparse.Namespace, defaults: SynthConfig) -> SynthConfig:
    """``defaults`` changed by the synthetic-set options given.

    Raises
    ------
    EmgInputError
        For values the generator refuses.
    """
    given = {
        "reps": args.reps,
        "snr_db": args.snr_db,
        "fs": args.fs,
        "seed": args.seed,
        "sides": args.sides,
        "ramp_s": None if args.ramp_ms is None else args.ramp_ms / 1000,
        "noise_uv": args.noise_uv,
        "mains_hz": args.mains_hz,
        "mains_uv": args.mains_uv,
        "artefact_uv": args.artefact_uv,
        "crosstalk": args.crosstalk,
        "fatigue": args.fatigue,
        "cramp_rep": args.cramp_rep,
        "loss": args.loss,
    }
    changes: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    if args.lead_ms is not None:
        leads = args.lead_ms
        changes["lead_ms"] = leads[0] if len(leads) == 1 else tuple(leads)
    elif args.reps is not None and not isinstance(defaults.lead_ms, (int, float)):
        changes["lead_ms"] = _stretch(defaults.leads_ms(), args.reps)
    config = dataclasses.replace(defaults, **changes)  # type: ignore[arg-type]
    try:
        config.leads_ms()
    except ValueError as error:
        count = len(args.lead_ms or ())
        reason = (
            f"{count} values for {config.reps} reps: give one lead for every rep, or one per rep"
            if "values for" in str(error)
            else str(error)
        )
        raise EmgInputError(f"--lead-ms: {reason}", source="command line") from None
    return config


def _stretch(leads: list[float], reps: int) -> tuple[float, ...]:
    """A per-rep lead pattern resized to ``reps``: first half of the pattern, then second."""
    half = len(leads) // 2
    first, second = leads[:half] or leads, leads[half:] or leads
    cut = reps // 2
    return tuple(first[i % len(first)] for i in range(cut)) + tuple(
        second[i % len(second)] for i in range(reps - cut)
    )
