"""``emg validate``: accuracy of the method on synthetic sets with known ground truth."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.validation import ValidationGrid, run_validation, summarize_validation
from emg.commands.options import (
    add_chain_options,
    add_recruitment_options,
    chain_config,
    exercise_config,
)
from emg.io.json_files import to_json


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.replace(" ", ",").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got '{text}'"
        ) from None


def _loss(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability from 0 to below 1, got '{text}'")
    return value


def add_parser(commands: Any) -> None:
    """Register ``emg validate``."""
    grid = ValidationGrid()
    parser = commands.add_parser(
        "validate",
        help="accuracy of onset, order, flag and cramp risk on synthetic sets",
        description="Generate synthetic sets over a grid of SNRs, leads and seeds, analyse each "
        "through the live pipeline and compare with the ground truth: onset error per SNR, "
        "order accuracy per lead, false flags on glute-first sets, hit rate and delay of the "
        "flag on hamstring-first sets, decision delay, ratio error (levels normalised to the "
        "true MVC), and cramp warnings before the cramp's peak.",
    )
    parser.add_argument(
        "--snr-db",
        type=_numbers,
        default=grid.snr_db,
        metavar="DB[,DB...]",
        help=f"SNRs (default {','.join(f'{v:g}' for v in grid.snr_db)})",
    )
    parser.add_argument(
        "--lead-ms",
        type=_numbers,
        default=grid.leads_ms,
        metavar="MS[,MS...]",
        help="leads, hamstring minus glute onset "
        f"(default {','.join(f'{v:g}' for v in grid.leads_ms)})",
    )
    parser.add_argument(
        "--seeds", type=int, default=len(grid.seeds), help=f"seeds per cell ({len(grid.seeds)})"
    )
    parser.add_argument("--reps", type=int, default=grid.reps, help=f"reps per set ({grid.reps})")
    parser.add_argument("--fs", type=float, default=grid.fs, help=f"sample rate ({grid.fs:g} Hz)")
    parser.add_argument(
        "--cramp-rep",
        type=int,
        default=grid.cramp_rep,
        help=f"rep at which the cramp sets' episode starts; 0 = no cramp sets ({grid.cramp_rep})",
    )
    parser.add_argument(
        "--loss",
        type=_loss,
        default=grid.base.loss,
        help="probability of losing each 20 ms packet, as over Bluetooth "
        f"({grid.base.loss:g}); lost samples arrive zero-filled and marked",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run NeuroKit2's and BioSPPy's onset detectors (if installed) on the sets "
        "of the first lead",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_chain_options(parser)
    add_recruitment_options(parser)
    parser.set_defaults(handler=run, mains="off")


def run(args: argparse.Namespace) -> int:
    """Run the validation and print its tables."""
    from emg.analysis.peers import available_peers

    grid = ValidationGrid(
        snr_db=args.snr_db,
        leads_ms=args.lead_ms,
        seeds=tuple(range(args.seeds)),
        reps=args.reps,
        fs=args.fs,
        cramp_rep=args.cramp_rep,
        base=dataclasses.replace(ValidationGrid().base, loss=args.loss),
    )
    exercise = exercise_config(args)
    analysis = AnalysisConfig(chain=chain_config(args), exercise=exercise)
    peers = available_peers() if args.compare else None
    if args.compare and not peers:
        print("emg: neither NeuroKit2 nor BioSPPy is installed; no comparison", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{done}/{total} sets", end="" if done < total else "\n", file=sys.stderr)

    outcomes = run_validation(grid, analysis, peers, progress)
    summary = summarize_validation(outcomes, exercise.margin_ms, exercise.flagged_order)
    summary["grid"] = {
        "snr_db": list(grid.snr_db),
        "leads_ms": list(grid.leads_ms),
        "seeds": len(grid.seeds),
        "reps": grid.reps,
        "fs": grid.fs,
        "cramp_rep": grid.cramp_rep,
        "loss": grid.base.loss,
        "exercise": exercise.name,
        "margin_ms": exercise.margin_ms,
        "detector": analysis.chain.detector,
    }
    print(to_json(summary) if args.json else format_validation(summary))
    return 0


def format_validation(summary: dict[str, Any]) -> str:
    """Markdown tables of a validation summary (they paste into the README as they are)."""
    grid = summary["grid"]
    lines = [
        f"{grid['seeds']} seeds x {len(grid['snr_db'])} SNRs x {len(grid['leads_ms'])} leads, "
        f"{grid['reps']} reps per set at {grid['fs']:g} Hz"
        + (f", {grid['loss'] * 100:g} % of packets lost" if grid.get("loss") else "")
        + f"; {grid['exercise']}, margin "
        f"{grid['margin_ms']:g} ms, detector {grid['detector']}",
        "",
        "Onset error (all onsets of both muscles):",
        "",
        "| SNR | median \\|error\\| | p95 | missed | spurious | onsets |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_onset_line(row) for row in summary["onsets"]]
    if summary["peers"]:
        lines += [
            "",
            f"Onset detectors side by side (sets with lead {grid['leads_ms'][0]:g} ms):",
            "",
            "| SNR | detector | median \\|error\\| | p95 | missed | spurious |",
            "|---|---|---|---|---|---|",
        ]
        for row in summary["peers"]:
            lines.append(
                f"| {row['snr_db']:g} dB | {row['detector']} | {_ms(row['median'])} | "
                f"{_ms(row['p95'])} | {row['missed']} | {row['spurious']} |"
            )
    lines += [
        "",
        "Order accuracy per lead (hamstring minus glute onset):",
        "",
        "| SNR | lead | true order | accuracy | glute-first | simultaneous | hamstring-first "
        "| not found |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["order"]:
        accuracy = f"{row['accuracy']:.1%}" if row["accuracy"] is not None else "-"
        lines.append(
            f"| {row['snr_db']:g} dB | {row['lead_ms']:+g} ms | {row['true_order']} | {accuracy} "
            f"| {row['glute-first']} | {row['simultaneous']} | {row['hamstring-first']} "
            f"| {row['not_found']} |"
        )
    lines += [
        "",
        "Flag (unexpected order in 2 of the last 3 reps):",
        "",
        "| SNR | false flags, glute-first sets | hamstring-first sets flagged by rep 3 | "
        "median rep | median delay after the true later onset |",
        "|---|---|---|---|---|",
    ]
    for row in summary["flag"]:
        rep = f"{row['median_flag_rep']:g}" if row["median_flag_rep"] is not None else "-"
        lines.append(
            f"| {row['snr_db']:g} dB | {row['false_flags']} / {row['glute_first_sets']} | "
            f"{row['hits_by_rep_3']} / {row['hamstring_first_sets']} | {rep} | "
            f"{_ms(row['median_flag_delay_ms'])} |"
        )
    delay, ratio = summary["decision_delay_ms"], summary["ratio"]
    lines += [
        "",
        f"Order decided {_ms(delay['median'])} after the true later onset (median; p95 "
        f"{_ms(delay['p95'])}). Glute:hamstring ratio (normalised to the true MVC): median "
        f"|error| {_pct(ratio['median'])}, p95 {_pct(ratio['p95'])}.",
    ]
    if summary["cramp"] and any(row["cramp_sets"] for row in summary["cramp"]):
        lines += [
            "",
            "Cramp risk:",
            "",
            "| SNR | cramp sets warned before the peak | median warning ahead of the peak | "
            "clean glute-first sets left at ok |",
            "|---|---|---|---|",
        ]
        for row in summary["cramp"]:
            ahead = (
                f"{row['median_warning_lead_s']:.2f} s"
                if row["median_warning_lead_s"] is not None
                else "-"
            )
            lines.append(
                f"| {row['snr_db']:g} dB | {row['warning_before_peak']} / {row['cramp_sets']} | "
                f"{ahead} | {row['clean_ok']} / {row['clean_sets']} |"
            )
    return "\n".join(lines)


def _onset_line(row: dict[str, Any]) -> str:
    return (
        f"| {row['snr_db']:g} dB | {_ms(row['median'])} | {_ms(row['p95'])} | {row['missed']} | "
        f"{row['spurious']} | {row['onsets']} |"
    )


def _ms(value: float | None) -> str:
    return f"{value:.1f} ms" if value is not None else "-"


def _pct(value: float | None) -> str:
    return f"{value:.1f} %" if value is not None else "-"
