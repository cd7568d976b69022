"""``emg validate``: accuracy of the method on synthetic sets with known ground truth."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from emg.analysis.offline import analyze_recording
from emg.commands.options import (
    add_chain_options,
    add_channel_option,
    add_recruitment_options,
    analysis_config,
    default_config,
    input_path,
    option_error,
    read_input,
)
from emg.dsp.chain_limits import SettingError
from emg.dsp.onset import REFINEMENTS
from emg.errors import EmgInputError
from emg.io.json_files import to_json, truth_path
from emg.io.open_recording import READABLE
from emg.sources.families import family_names
from emg.sources.synthetic import RANGES
from emg.validation.families import (
    EARLY_MS,
    FamilyGrid,
    check_truth_within,
    parse_truth,
    truth_summary,
)
from emg.validation.grid import ValidationGrid
from emg.validation.runs import (
    FAMILY_SETS_OWN,
    family_grid,
    validate_families,
    validate_grid,
    validation_grid,
)

#: What to install for ``--compare`` (the ``bench`` extra, from the toolkit's checkout).
BENCH_HINT = "python -m pip install -e '.[bench]' in the toolkit's checkout"


def _numbers(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(" ", ",").split(",") if v)
    except ValueError:
        values = (math.nan,)
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got '{text}'")
    return values


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
    families = FamilyGrid(families=())
    low_snr, high_snr = RANGES["snr_db"]
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
        metavar="DB[,DB...]",
        help=f"SNRs in dB, each from {low_snr:g} to {high_snr:g} (what the generator "
        "simulates; below 0 dB the noise is stronger than the muscle; default "
        f"{','.join(f'{v:g}' for v in grid.snr_db)})",
    )
    parser.add_argument(
        "--lead-ms",
        type=_numbers,
        metavar="MS[,MS...]",
        help="leads, hamstring minus glute onset "
        f"(default {','.join(f'{v:g}' for v in grid.leads_ms)}; with --family "
        f"{','.join(f'{v:g}' for v in families.leads_ms)})",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        help=f"seeds per cell ({len(grid.seeds)}; with --family {len(families.seeds)})",
    )
    parser.add_argument(
        "--reps", type=int, help=f"reps per set ({grid.reps}; with --family {families.reps})"
    )
    parser.add_argument(
        "--fs",
        type=float,
        help=f"sample rate ({grid.fs:g} Hz; with --family "
        f"{' and '.join(f'{v:g}' for v in families.fs)} Hz)",
    )
    parser.add_argument(
        "--cramp-rep",
        type=int,
        help=(
            f"rep at which the cramp sets' episode starts, at most the last; 0 = no cramp "
            f"sets ({grid.cramp_rep}, or the last rep of a shorter set)"
        ),
    )
    parser.add_argument(
        "--loss",
        type=_loss,
        help="probability of losing each 20 ms packet, as over Bluetooth "
        f"({grid.base.loss:g}); lost samples arrive zero-filled and marked",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run NeuroKit2's and BioSPPy's onset detectors on the sets of the first "
        "lead (they come with the bench extra: pip install -e '.[bench]'); with --family, "
        f"run every onset refinement ({', '.join(REFINEMENTS)}) over the same sets and put "
        "their targets side by side, each judged on its worst family and condition",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--family",
        metavar="NAME|all",
        help="instead of the grid above, validate on independent simulator families ("
        f"{', '.join(family_names())} or all): per family and condition (equal and unequal "
        "SNR, fast and slow recruitment, interference, a first burst 0.5-1.5 s into the "
        "stream) the onset, lead and order errors over leads, sample rates and seeds "
        "(--lead-ms, --fs, --seeds, --reps apply), each set analysed as emg analyze would",
    )
    parser.add_argument(
        "--truth",
        type=Path,
        metavar="FILE",
        help="instead of the grid, score RECORDING against FILE, a truth JSON in the format "
        "emg synth writes (reps with glute_onset_s and hamstring_onset_s): onset, lead and "
        "order errors; RECORDING defaults to the CSV beside FILE.truth.json",
    )
    parser.add_argument(
        "recording",
        nargs="?",
        type=input_path,
        metavar="RECORDING",
        help=f"with --truth: the recording to score ({READABLE}), analysed as emg analyze would",
    )
    add_channel_option(parser)
    add_chain_options(parser)
    add_recruitment_options(parser)
    parser.set_defaults(handler=run)


#: Options of the project's grid only, by attribute: the option, and why ``--family`` does
#: without it (its conditions are its own).
GRID_ONLY = {
    name: (option, FAMILY_SETS_OWN[name])
    for name, option in (("snr_db", "--snr-db"), ("loss", "--loss"), ("cramp_rep", "--cramp-rep"))
}

#: Options of the synthetic sets (the grid's and ``--family``'s), by attribute.
SYNTHETIC_ONLY = {
    "lead_ms": "--lead-ms",
    "seeds": "--seeds",
    "reps": "--reps",
    "fs": "--fs",
    "compare": "--compare",
}


def check_options_apply(args: argparse.Namespace) -> None:
    """Refuse an option the validation asked for would ignore.

    ``--family`` simulates its own conditions (no ``--snr-db``, ``--loss``, ``--cramp-rep``);
    ``--truth`` scores a recording (none of the synthetic sets' options); ``--channel`` names
    the channels of that recording (none without ``--truth``).

    Raises
    ------
    EmgInputError
        Naming the option given and why it does not apply.
    """
    if args.truth is not None:
        synthetic = {a: option for a, (option, _) in GRID_ONLY.items()} | SYNTHETIC_ONLY
        for attribute, option in synthetic.items():
            if _given(getattr(args, attribute)):
                raise EmgInputError(
                    f"{option} does not apply to --truth: it scores the recording given, not "
                    "synthetic sets",
                    source="command line",
                )
        return
    if args.recording is not None:
        return  # without --truth: run_truth says what is missing
    if args.channel or args.stream is not None:
        option = "--channel" if args.channel else "--stream"
        raise EmgInputError(
            f"{option} does not apply without --truth: it chooses what is read of the "
            "recording scored, and synthetic sets have their own channels",
            source="command line",
        )
    if args.family is None:
        return
    for attribute, (option, reason) in GRID_ONLY.items():
        if _given(getattr(args, attribute)):
            raise EmgInputError(
                f"{option} does not apply to --family: {reason}", source="command line"
            )


def _given(value: object) -> bool:
    """An option given (0 included), not left at None or a flag's False."""
    return value is not None and value is not False


def run(args: argparse.Namespace) -> int:
    """Run the validation and print its tables."""
    from emg.validation.peers import available_peers

    if args.truth is not None or args.recording is not None:
        if args.family is not None:
            raise EmgInputError(
                "--family simulates its own sets; --truth scores a recording: give one of them",
                source="command line",
            )
        check_options_apply(args)
        return run_truth(args)
    check_options_apply(args)
    if args.family is not None:
        return run_families(args)
    try:
        grid = validation_grid(
            snr_db=args.snr_db,
            leads_ms=args.lead_ms,
            seeds=args.seeds,
            reps=args.reps,
            fs=args.fs,
            cramp_rep=args.cramp_rep,
            loss=args.loss,
        )
    except SettingError as error:
        raise option_error(error) from None
    analysis = default_config(args)
    peers = available_peers() if args.compare else None
    if args.compare and not peers:
        raise EmgInputError(
            f"--compare runs NeuroKit2's and BioSPPy's onset detectors, and neither is "
            f"installed: {BENCH_HINT} (or leave --compare out)",
            source="command line",
        )
    summary = validate_grid(grid, analysis, peers, _progress)
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


def run_families(args: argparse.Namespace) -> int:
    """``--family``: validate on simulator families and print their tables."""
    try:
        grid = family_grid(
            args.family, leads_ms=args.lead_ms, fs=args.fs, seeds=args.seeds, reps=args.reps
        )
    except SettingError as error:
        raise option_error(error) from None
    analysis = default_config(args)
    # --compare: every onset refinement over the same sets, the default's first
    summaries = validate_families(
        grid, analysis, args.mains or "auto", REFINEMENTS if args.compare else (), _progress
    )
    if not args.compare:
        print(to_json(summaries[0]) if args.json else format_families(summaries[0]))
    elif args.json:
        print(to_json({"refinements": summaries}))
    else:
        print("\n\n".join([*map(format_families, summaries), format_comparison(summaries)]))
    return 0


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{done}/{total} sets", end="" if done < total else "\n", file=sys.stderr)


def run_truth(args: argparse.Namespace) -> int:
    """``--truth FILE [RECORDING]``: score a recording against its truth and print the table."""
    if args.truth is None:
        raise EmgInputError(
            f"{args.recording}: a recording is scored only against a truth file: "
            "emg validate --truth FILE RECORDING",
            source="command line",
        )
    true_reps = parse_truth(_read_json(args.truth), str(args.truth))  # a missing one first
    recording_path = args.recording or _recording_beside(args.truth)
    recording = read_input(recording_path, args.channel, args.stream)
    check_truth_within(true_reps, recording.duration_s, str(args.truth))
    analysis = analysis_config(args, recording)
    result = analyze_recording(recording, analysis, keep_envelope=False)
    summary = {
        "file": str(recording_path),
        "truth": str(args.truth),
        **truth_summary(result, true_reps, analysis),
    }
    print(to_json(summary) if args.json else format_truth(summary))
    return 0


def _recording_beside(truth: Path) -> Path:
    """``OUT.truth.json`` -> ``OUT.csv`` (as ``emg synth`` writes them), or the session folder
    whose ``truth.json`` it is (as a synthetic session is recorded), if it is there."""
    if truth.name == "truth.json" and (truth.parent / "session.json").is_file():
        return truth.parent
    suffix = ".truth.json"
    if truth.name.endswith(suffix):
        csv = truth.with_name(truth.name[: -len(suffix)] + ".csv")
        if truth_path(csv) == truth and csv.exists():
            return csv
    raise EmgInputError(
        "no recording given and none beside it: emg validate --truth FILE RECORDING",
        source=str(truth),
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise EmgInputError(f"cannot read it: {error.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise EmgInputError("not a JSON text file", source=str(path)) from None
    except json.JSONDecodeError as error:
        raise EmgInputError(
            f"not valid JSON: {error.msg}", source=str(path), line=error.lineno
        ) from None


def format_families(summary: dict[str, Any]) -> str:
    """Markdown tables of a family validation (they paste into the README as they are)."""
    grid = summary["grid"]
    lines = [
        f"families {', '.join(grid['families'])}: {grid['sets']} sets "
        f"({grid['seeds']} seeds x leads {','.join(f'{v:g}' for v in grid['leads_ms'])} ms x "
        f"{' and '.join(f'{v:g}' for v in grid['fs'])} Hz per condition), {grid['reps']} reps "
        f"per set; {grid['exercise']}, margin {grid['margin_ms']:g} ms, detector "
        f"{grid['detector']}, mains {grid['mains']}",
        "",
        "Onset error (detected minus true, both muscles):",
        "",
        "| family | condition | median \\|error\\| | signed median | p95 \\|error\\| "
        f"| > {EARLY_MS:g} ms early | missed | spurious | onsets |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summary["conditions"]:
        lines.append(f"| {row['family']} | {_condition(row)} | {_onset_cells(row['onset'])} |")
    lines += [
        "",
        "Lead (hamstring minus glute onset) and order:",
        "",
        "| family | condition | lead error, median | p95 \\|error\\| | order right, "
        "\\|lead\\| >= 80 ms | +-20 ms called hamstring-first | false flags, glute-first sets |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary["conditions"]:
        lines.append(f"| {row['family']} | {_condition(row)} | {_lead_cells(row)} |")
    if summary["first_burst"]:
        lines += [
            "",
            "First burst of the stream (0.5-1.5 s after it starts) against the later bursts of "
            "the same sets:",
            "",
            "| family | first: median \\|error\\| | signed median | missed | later: median "
            "\\|error\\| | signed median | missed |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in summary["first_burst"]:
            first, later = row["first"], row["later"]
            lines.append(
                f"| {row['family']} | {_ms(first['median'])} | {_signed(first['signed_median'])} "
                f"| {first['missed']} / {first['onsets']} | {_ms(later['median'])} | "
                f"{_signed(later['signed_median'])} | {later['missed']} / {later['onsets']} |"
            )
    if "targets" in summary:
        lines += ["", format_targets(summary)]
    return "\n".join(lines)


def format_targets(summary: dict[str, Any]) -> str:
    """The accuracy targets of a family validation, each on its worst family and condition."""
    lines = [
        "Targets, each judged on the worst family and condition it covers:",
        "",
        "| target | worst | where | holds |",
        "|---|---|---|---|",
    ]
    for target in summary["targets"]:
        lines.append(
            f"| {_cell(target['target'])} | {_figure(target)} | {target['where']} | "
            f"{'yes' if target['holds'] else 'NO'} |"
        )
    held = sum(t["holds"] for t in summary["targets"])
    lines += ["", f"{held} of {len(summary['targets'])} targets hold."]
    if "hamstring_first_calls" in summary:
        calls = summary["hamstring_first_calls"]
        lines += [
            "",
            "Hamstring-first calls over every family and condition: "
            f"{_missed_cell(calls)} clear hamstring-first reps not called hamstring-first, "
            f"{_false_cell(calls)} reps that were not hamstring-first (within +-20 ms, or "
            "glute-first) called hamstring-first.",
        ]
    return "\n".join(lines)


def _missed_cell(calls: dict[str, Any]) -> str:
    return f"{calls['missed']} of {calls['hamstring_first']}"


def _false_cell(calls: dict[str, Any]) -> str:
    return f"{calls['false']} of {calls['not_hamstring_first']}"


def format_comparison(summaries: list[dict[str, Any]]) -> str:
    """The targets of several onset refinements over the same sets, side by side."""
    names = [s["grid"]["refinement"] for s in summaries]
    lines = [
        "Onset refinements side by side (worst family and condition of each target; * holds):",
        "",
        "| target | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for i, target in enumerate(summaries[0]["targets"]):
        cells = [s["targets"][i] for s in summaries]
        lines.append(
            f"| {_cell(target['target'])} | "
            + " | ".join(f"{_figure(c)}{' *' if c['holds'] else ''}" for c in cells)
            + " |"
        )
    lines.append(
        "| targets held | "
        + " | ".join(
            f"{sum(t['holds'] for t in s['targets'])} of {len(s['targets'])}" for s in summaries
        )
        + " |"
    )
    if all("hamstring_first_calls" in s for s in summaries):
        calls = [s["hamstring_first_calls"] for s in summaries]
        lines += [
            "",
            "Hamstring-first calls over every family and condition (the call the athlete is "
            "warned on; not targets):",
            "",
            "| | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
            "| clear hamstring-first reps not called hamstring-first | "
            + " | ".join(map(_missed_cell, calls))
            + " |",
            "| reps within +-20 ms or glute-first called hamstring-first | "
            + " | ".join(map(_false_cell, calls))
            + " |",
        ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text in a Markdown table cell (a bar would end the cell)."""
    return text.replace("|", "\\|")


def _figure(target: dict[str, Any]) -> str:
    value, unit = target["value"], target["unit"]
    if value is None:
        return "-"
    if unit == "reps":
        return f"{value:.0f}"
    return f"{value:+.1f} {unit}" if target["signed"] else f"{value:.1f} {unit}"


def format_truth(summary: dict[str, Any]) -> str:
    """Markdown tables of one recording scored against its truth file."""
    lines = [
        f"{summary['file']} against {summary['truth']}: {summary['true_reps']} true reps, "
        f"{summary['detected_reps']} detected; margin {summary['margin_ms']:g} ms, detector "
        f"{summary['detector']}",
        "",
        f"| median \\|error\\| | signed median | p95 \\|error\\| | > {EARLY_MS:g} ms early "
        "| missed | spurious | onsets |",
        "|---|---|---|---|---|---|---|",
        f"| {_onset_cells(summary['onset'])} |",
        "",
        "| lead error, median | p95 \\|error\\| | order right, \\|lead\\| >= 80 ms | "
        "+-20 ms called hamstring-first | false flags, glute-first sets |",
        "|---|---|---|---|---|",
        f"| {_lead_cells(summary)} |",
        "",
        "| rep | true lead | lead | lead error | order | glute onset error "
        "| hamstring onset error |",
        "|---|---|---|---|---|---|---|",
    ]
    for rep in summary["reps"]:
        side = f" ({rep['side']})" if rep.get("side") else ""
        lines.append(
            f"| {rep['rep']}{side} | {rep['true_lead_ms']:+.1f} ms | {_signed(rep['lead_ms'])} | "
            f"{_signed(rep['lead_error_ms'])} | {rep['order'] or '-'} | "
            f"{_signed(rep['glute_onset_error_ms'])} | {_signed(rep['hamstring_onset_error_ms'])} |"
        )
    return "\n".join(lines)


def _condition(row: dict[str, Any]) -> str:
    return f"{row['group']}: {row['label']}"


def _onset_cells(onset: dict[str, Any]) -> str:
    return (
        f"{_ms(onset['median'])} | {_signed(onset['signed_median'])} | {_ms(onset['p95'])} | "
        f"{onset['early']} | {onset['missed']} | {onset['spurious']} | {onset['onsets']}"
    )


def _lead_cells(row: dict[str, Any]) -> str:
    lead, order, near, flags = row["lead"], row["order"], row["near_zero"], row["flags"]
    accuracy = f"{order['accuracy']:.1%}" if order["accuracy"] is not None else "-"
    other = f", {order['wrong_side']} the other side" if order.get("wrong_side") else ""
    return (
        f"{_signed(lead['median'])} | {_ms(lead['p95'])} | {accuracy} of {order['reps']}{other} | "
        f"{near['hamstring_first']} / {near['reps']} | "
        f"{flags['false_flags']} / {flags['glute_first_sets']}"
    )


def _signed(value: float | None) -> str:
    return f"{value:+.1f} ms" if value is not None else "-"
