"""The session report's figures, drawn with Matplotlib (Agg, off screen) into PNG bytes.

Colours are Okabe–Ito (colour-blind safe) as in the live window: glute ``#0072B2``, hamstring
``#E69F00``. A rep is drawn in the colour of the muscle that started it. The cramp-risk levels
use bluish green / yellow / vermillion, so that "watch" is not mistaken for the hamstring's
orange. Figures are :class:`matplotlib.figure.Figure` objects with their own Agg canvas (no
pyplot, no global state, no display); nothing here touches a file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from emg.analysis.offline import OfflineResult
from emg.analysis.summary_schema import RepRow, SessionSummary
from emg.report.content import ReportContent
from emg.wording import rep_label

MUSCLE_COLOURS = {"glute": "#0072B2", "hamstring": "#E69F00"}
ORDER_COLOURS = {
    "glute-first": MUSCLE_COLOURS["glute"],
    "hamstring-first": MUSCLE_COLOURS["hamstring"],
    "simultaneous": "#888888",
}
UNDECIDED_COLOUR = "#CCCCCC"
RISK_COLOURS = {"ok": "#009E73", "watch": "#F0E442", "warning": "#D55E00"}
FLAG_COLOUR = "#CC79A7"
LOSS_COLOUR = "#000000"
#: stretches in which a channel gave no signal (stuck at one value), hatched in the timeline
STUCK_COLOUR = "#999999"
#: the timeline's bottom lane: samples lost in transit (black) or not recorded (hatched)
SIGNAL_LANE = "lost or no signal"
#: Pixels per inch of the PNGs (a 12 in wide figure is 1200 px).
DPI = 100
WIDTH_IN = 12.0
#: Seconds shown before each rep's start and after its end in the small multiples.
PANEL_PAD_S = 0.5
#: Most points drawn per envelope line in a panel (the 50 ms envelope is smooth).
PANEL_POINTS = 1500
PANEL_COLUMNS = 4
#: Most rep panels drawn: a long set shows its first and last reps (half each), since a figure
#: of hundreds of panels took minutes to draw (399 reps: 9 min) and is too tall to read;
#: the lead figure and the table keep every rep.
MAX_PANELS = 48
#: Panels share one time scale unless the longest rep is this many times the median.
SHARED_SCALE_LIMIT = 1.5


@dataclass(frozen=True)
class FigureImage:
    """One rendered figure.

    Attributes
    ----------
    name
        File stem for ``--png`` (``envelopes``, ``lead``, ``ratio``, ``timeline``).
    title
        Heading.
    caption
        What it shows and how to read it.
    png
        The PNG file's bytes.
    """

    name: str
    title: str
    caption: str
    png: bytes


def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas (no display, no metadata URL)."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def report_figures(result: OfflineResult, content: ReportContent) -> list[FigureImage]:
    """All figures of the report, rendered.

    Parameters
    ----------
    result
        The analysis, with its envelope kept.
    content
        The report's content (its ``summary`` holds the reps, flags and cramp risk).

    Returns
    -------
    list of FigureImage
        The per-rep envelopes, the lead per rep, the ratio trend (each only with reps) and
        the timeline, in the report's order.
    """
    return [
        FigureImage(name, title, caption, png_bytes(figure))
        for name, title, caption, figure in report_matplotlib_figures(result, content)
    ]


def report_matplotlib_figures(
    result: OfflineResult, content: ReportContent
) -> list[tuple[str, str, str, Figure]]:
    """The report's figures as matplotlib figures, with the name, title and caption of each
    (see :func:`report_figures`)."""
    summary = content.summary
    unit = summary["normalisation"]["unit"]
    margin = float(summary["exercise"]["margin_ms"])
    figures: list[tuple[str, str, str, Figure]] = []
    if summary["reps"]:
        figures.append(
            (
                "envelopes",
                "Envelopes and onsets",
                "One panel per rep: the RMS envelope of the glute (blue) and the hamstring "
                "(orange) from half a second before the rep to half a second after it, the "
                "detected onsets (dashed lines and dots) and each muscle's onset threshold "
                "(dotted). The frame is in the colour of the muscle that started the rep; "
                "times are from the rep's start." + _panels_note(len(summary["reps"])),
                envelope_figure(result, summary),
            )
        )
        figures.append(
            (
                "lead",
                "Who started each rep, and by how much",
                "Lead = hamstring onset − glute onset, per rep: up (blue) the glutes started "
                f"first, down (orange) the hamstrings. Inside the grey band (±{margin:g} ms) "
                "the onsets are too close to call and the rep counts as together; the short "
                "dotted ticks are each rep's own margin, widened by the lead's uncertainty.",
                lead_figure(summary),
            )
        )
        figures.append(
            (
                "ratio",
                "Glute : hamstring ratio over the set",
                f"Glute level over hamstring level per rep (levels in {unit}); above 1 the "
                "glutes worked harder. Dots are in the colour of the muscle that started the "
                "rep; the dashed segments are the means of the first and the last reps that "
                "the summary compares.",
                ratio_figure(summary, content),
            )
        )
    figures.append(
        (
            "timeline",
            "Timeline: reps, flags, cramp risk and lost samples",
            "The set over time: each rep from its start to its end in the colour of the "
            "muscle that started it (the tick marks when its order was decided), when a flag "
            "was up, the cramp-risk level (green ok, yellow watch, red warning), where "
            "samples were lost in transit (black) and where a sensor gave no signal, stuck "
            "at one value (hatched grey).",
            timeline_figure(content),
        )
    )
    return figures


# ---------------------------------------------------------------------- small multiples


def _pair_channels(result: OfflineResult, summary: SessionSummary) -> dict[Any, tuple[int, int]]:
    index = {c.label: i for i, c in enumerate(result.channels)}
    return {p["side"]: (index[p["glute"]], index[p["hamstring"]]) for p in summary["pairs"]}


def _rep_end_s(rep: RepRow, duration_s: float) -> float:
    for end in (rep["end_s"], rep["completed_at_s"]):
        if end is not None:
            return float(end)
    return duration_s


def _threshold(result: OfflineResult, channel: int, sample: int) -> float | None:
    """Onset threshold (baseline mean + k SD) in effect at ``sample``, as the live window
    draws it; None for the TKEO detector (its threshold is not on the RMS envelope)."""
    if result.config.detector != "rms":
        return None
    current = None
    for baseline in result.baselines:
        if baseline.valid_from <= sample:
            current = baseline
    if current is None:
        return None
    return float(current.mean[channel] + result.config.k * current.std[channel])


def _tile_label(rep: RepRow) -> str:
    """The live window's tile wording (``glutes first by 92 ms``), or why there is no lead."""
    order = rep["order"]
    if rep["lead_ms"] is None and order in ("glute-first", "hamstring-first"):
        who = "glutes" if order == "glute-first" else "hamstrings"
        why = "already on" if rep["already_active"] else "the other did not switch on"
        side = f" ({rep['side']})" if rep["side"] else ""
        return f"Rep {rep['index']}: {who} first, {why}{side}"
    label = rep_label(order, rep["lead_ms"], rep["side"], rep.get("not_recorded", ()))
    return f"Rep {rep['index']}: {label}"


def envelope_figure(result: OfflineResult, summary: SessionSummary) -> Figure:
    """Small multiples: one panel per rep with both muscles' RMS envelopes and onsets.

    Parameters
    ----------
    result
        The analysis, with its envelope kept.
    summary
        :func:`emg.analysis.summary.summarize` of it.

    Returns
    -------
    Figure
        Panels in rep order (by start), four per row, sharing both axes.
    """
    fs = result.sample_rate
    envelope = result.envelope
    n_samples = len(envelope)
    duration = n_samples / fs
    pairs = _pair_channels(result, summary)
    side_order = {side: i for i, side in enumerate(pairs)}
    reps = shown_reps(sorted(summary["reps"], key=lambda r: (side_order[r["side"]], r["index"])))
    columns = min(PANEL_COLUMNS, len(reps))
    rows = math.ceil(len(reps) / columns)
    lengths = [_rep_end_s(r, duration) - float(r["start_s"]) for r in reps]
    # one time scale for all panels, unless a rep is much longer than the others (a cramp)
    shared = max(lengths) <= SHARED_SCALE_LIMIT * float(np.median(lengths))
    figure = Figure(figsize=(WIDTH_IN, 0.9 + 2.3 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, sharex=shared, sharey=True, squeeze=False)
    for ax in axes.flat[len(reps) :]:
        ax.set_visible(False)
    for ax, rep, length in zip(axes.flat, reps, lengths, strict=False):
        shown = max(lengths) if shared else length
        start = float(rep["start_s"])
        first = max(0, round((start - PANEL_PAD_S) * fs))
        stop = min(n_samples, round((start + shown + PANEL_PAD_S) * fs))
        step = max(1, (stop - first) // PANEL_POINTS)
        t = np.arange(first, stop, step) / fs - start
        for group, channel in zip(("glute", "hamstring"), pairs[rep["side"]], strict=True):
            colour = MUSCLE_COLOURS[group]
            ax.plot(t, envelope[first:stop:step, channel], color=colour, linewidth=1.3)
            onset = rep["glute_onset_s"] if group == "glute" else rep["hamstring_onset_s"]
            if onset is not None:
                sample = min(n_samples - 1, round(onset * fs))
                ax.axvline(onset - start, color=colour, linestyle="--", linewidth=1.1)
                ax.plot(
                    [onset - start],
                    [envelope[sample, channel]],
                    marker="o",
                    markersize=6,
                    color=colour,
                    markeredgecolor="black",
                    markeredgewidth=0.6,
                )
            level = _threshold(result, channel, round(start * fs))
            if level is not None:
                ax.axhline(level, color=colour, linestyle=":", linewidth=1.0)
        frame = ORDER_COLOURS.get(rep["order"] or "", UNDECIDED_COLOUR)
        for spine in ax.spines.values():
            spine.set_color(frame)
            spine.set_linewidth(2.0)
        ax.set_title(_tile_label(rep), fontsize=10, color="#222222")
        ax.grid(True, color="#EEEEEE", linewidth=0.6)
        ax.set_xlim(-PANEL_PAD_S, shown + PANEL_PAD_S)
    for ax in axes[:, 0]:
        ax.set_ylabel("RMS envelope (µV)")
    for ax in axes[-1, :]:
        ax.set_xlabel("seconds from the rep's start")
    figure.legend(
        handles=[
            Line2D([], [], color=MUSCLE_COLOURS["glute"], linewidth=1.5, label="glute"),
            Line2D([], [], color=MUSCLE_COLOURS["hamstring"], linewidth=1.5, label="hamstring"),
            Line2D([], [], color="#444444", linestyle="--", marker="o", label="onset"),
            Line2D([], [], color="#444444", linestyle=":", label="onset threshold"),
        ],
        loc="outside upper center",
        ncols=4,
        frameon=False,
    )
    return figure


def shown_reps(reps: Sequence[RepRow]) -> list[RepRow]:
    """The reps given a panel: all, or the first and last :data:`MAX_PANELS` / 2 of a long
    set.

    Examples
    --------
    >>> [r["index"] for r in shown_reps([{"index": i} for i in range(1, 101)])][22:26]
    [23, 24, 77, 78]
    """
    if len(reps) <= MAX_PANELS:
        return list(reps)
    half = MAX_PANELS // 2
    return [*reps[:half], *reps[-half:]]


def _panels_note(count: int) -> str:
    """What the caption adds when not every rep has a panel."""
    if count <= MAX_PANELS:
        return ""
    half = MAX_PANELS // 2
    return (
        f" Of the {count} reps, the first {half} and the last {half} have a panel; the lead "
        "figure and the table below show every rep."
    )


# ---------------------------------------------------------------------- lead and ratio


def _rep_names(reps: Sequence[RepRow]) -> list[str]:
    sides = {r["side"] for r in reps}
    if len(sides) <= 1:
        return [str(r["index"]) for r in reps]
    return [f"{(r['side'] or '')[:1].upper()}{r['index']}" for r in reps]


def lead_figure(summary: SessionSummary) -> Figure:
    """Lead time per rep as bars against the order margin band.

    Parameters
    ----------
    summary
        :func:`emg.analysis.summary.summarize` of the analysis (with reps).

    Returns
    -------
    Figure
        Bars coloured by the muscle that started the rep; grey band ±margin.
    """
    reps = summary["reps"]
    margin = float(summary["exercise"]["margin_ms"])
    x = np.arange(len(reps))
    leads = np.array([r["lead_ms"] if r["lead_ms"] is not None else 0.0 for r in reps])
    colours = [ORDER_COLOURS.get(r["order"] or "", UNDECIDED_COLOUR) for r in reps]
    figure = Figure(figsize=(WIDTH_IN, 4.2), layout="constrained")
    ax = figure.subplots()
    ax.axhspan(-margin, margin, color="#E4E4E4", zorder=0)
    ax.axhline(0, color="black", linewidth=0.8, zorder=1)
    ax.bar(x, leads, color=colours, edgecolor="black", linewidth=0.5, width=0.7, zorder=2)
    for xi, rep, lead in zip(x.astype(float), reps, leads, strict=True):
        own = rep["order_margin_ms"]
        if own is not None:
            ax.hlines([own, -own], xi - 0.42, xi + 0.42, colors="#555555", linestyles=":")
        if rep["lead_ms"] is None:
            ax.text(xi, 0, "n/a", ha="center", va="bottom", fontsize=9, color="#555555")
        else:
            ax.text(
                xi,
                lead,
                f"{lead:+.0f}",
                ha="center",
                va="bottom" if lead >= 0 else "top",
                fontsize=9,
            )
    top = max(float(np.abs(leads).max()), margin) * 1.3 + 10
    ax.set_ylim(-top, top)
    ax.set_xticks(x, _rep_names(reps))
    ax.set_xlim(-0.6, len(reps) - 0.4)
    ax.set_xlabel("rep")
    ax.set_ylabel("lead (ms): hamstring onset − glute onset")
    ax.text(0.005, 0.97, "↑ glutes first", transform=ax.transAxes, va="top", fontsize=9)
    ax.text(0.005, 0.03, "↓ hamstrings first", transform=ax.transAxes, va="bottom", fontsize=9)
    ax.legend(
        handles=[
            Patch(color=ORDER_COLOURS["glute-first"], label="glutes first"),
            Patch(color=ORDER_COLOURS["hamstring-first"], label="hamstrings first"),
            Patch(color=ORDER_COLOURS["simultaneous"], label="together"),
            Patch(color="#E4E4E4", label=f"±{margin:g} ms margin"),
            Line2D([], [], color="#555555", linestyle=":", label="rep's own margin"),
        ],
        loc="upper right",
        fontsize=9,
        ncols=5,
        frameon=False,
    )
    ax.grid(True, axis="y", color="#EEEEEE", linewidth=0.6, zorder=0)
    return figure


def ratio_figure(summary: SessionSummary, content: ReportContent) -> Figure:
    """Glute : hamstring ratio per rep, with the first and last reps' means of the summary.

    Parameters
    ----------
    summary
        :func:`emg.analysis.summary.summarize` of the analysis (with reps).
    content
        The report's content (its ratio trends).

    Returns
    -------
    Figure
        One line per pair; a dotted line at 1.
    """
    figure = Figure(figsize=(WIDTH_IN, 3.6), layout="constrained")
    ax = figure.subplots()
    ax.axhline(1.0, color="#777777", linestyle=":", linewidth=1.0)
    styles = ["-", "--", "-."]
    sides = [p["side"] for p in summary["pairs"]]
    for number, side in enumerate(sides):
        reps = [r for r in summary["reps"] if r["side"] == side and r["ratio"] is not None]
        if not reps:
            continue
        x = [r["index"] for r in reps]
        y = [r["ratio"] or 0.0 for r in reps]  # never 0: reps without a ratio are left out
        label = f"{side} side" if side else "ratio"
        ax.plot(x, y, color="#333333", linestyle=styles[number % 3], linewidth=1.2, label=label)
        ax.scatter(
            x,
            y,
            s=46,
            c=[ORDER_COLOURS.get(r["order"] or "", UNDECIDED_COLOUR) for r in reps],
            edgecolors="black",
            linewidths=0.6,
            zorder=3,
        )
    for trend in content.trends:
        for span, mean in ((trend.first_reps, trend.first), (trend.last_reps, trend.last)):
            ax.hlines(mean, min(span) - 0.3, max(span) + 0.3, colors="#222222", linestyles="--")
            ax.annotate(
                f"{mean:.2f}",
                (max(span) + 0.3, mean),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
    indices = [int(r["index"]) for r in summary["reps"]]
    if indices:
        ax.set_xticks(sorted(set(indices)))
    ax.set_xlabel("rep")
    ax.set_ylabel(f"glute : hamstring ({summary['normalisation']['unit']})")
    ratios = [r["ratio"] for r in summary["reps"]]
    ax.set_ylim(0, max([1.0, *(ratio for ratio in ratios if ratio is not None)]) * 1.15)
    if len(sides) > 1:
        ax.legend(fontsize=9, frameon=False)
    ax.grid(True, color="#EEEEEE", linewidth=0.6)
    return figure


# ---------------------------------------------------------------------- timeline


def timeline_figure(content: ReportContent) -> Figure:
    """Reps, flags, cramp-risk levels, and samples lost or stuck, over the recording's time.

    Parameters
    ----------
    content
        The report's content.

    Returns
    -------
    Figure
        One lane per item (per pair for reps, flags and risk), samples lost or not recorded
        (stuck) at the bottom.
    """
    summary = content.summary
    duration = content.duration_s
    sides = [p["side"] for p in summary["pairs"]]
    lanes: list[str] = []
    for side in sides:
        suffix = f" ({side})" if side else ""
        lanes += [f"reps{suffix}", f"flag{suffix}", f"cramp risk{suffix}"]
    lanes.append(SIGNAL_LANE)
    figure = Figure(figsize=(WIDTH_IN, 1.1 + 0.5 * len(lanes)), layout="constrained")
    ax = figure.subplots()
    y_of = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}
    for side in sides:
        suffix = f" ({side})" if side else ""
        _rep_lane(ax, summary, side, y_of[f"reps{suffix}"], duration)
        _flag_lane(ax, summary, side, y_of[f"flag{suffix}"], duration)
        _risk_lane(ax, summary, side, y_of[f"cramp risk{suffix}"], duration)
    y = y_of[SIGNAL_LANE]
    runs = [run for channel in content.channels for run in channel.loss_runs]
    stuck = [run for channel in content.channels for run in channel.stuck]
    if stuck:
        ax.broken_barh(
            [(a, b - a) for a, b in stuck],
            (y - 0.3, 0.6),
            facecolors="none",
            edgecolors=STUCK_COLOUR,
            hatch="///",
            linewidth=0.8,
        )
    if runs:
        ax.broken_barh(
            [(a, b - a) for a, b in runs],
            (y - 0.3, 0.6),
            facecolors=LOSS_COLOUR,
            edgecolors=LOSS_COLOUR,
            linewidth=0.8,
        )
    if not runs and not stuck:
        ax.text(duration / 2, y, "none", ha="center", va="center", fontsize=9, color="#555555")
    for time_s, kind, description in content.marks:
        ax.axvline(time_s, color="#555555", linestyle=":", linewidth=1.0)
        ax.text(time_s, len(lanes) - 0.45, f" {kind} {description}".rstrip(), fontsize=8)
    ax.set_yticks(list(y_of.values()), list(y_of.keys()))
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(0, duration)
    ax.set_xlabel("time (s)")
    ax.grid(True, axis="x", color="#EEEEEE", linewidth=0.6)
    ax.set_axisbelow(True)
    return figure


def _rep_lane(ax: Axes, summary: SessionSummary, side: Any, y: int, duration: float) -> None:
    for rep in summary["reps"]:
        if rep["side"] != side:
            continue
        start = float(rep["start_s"])
        end = _rep_end_s(rep, duration)
        colour = ORDER_COLOURS.get(rep["order"] or "", UNDECIDED_COLOUR)
        ax.broken_barh([(start, end - start)], (y - 0.3, 0.6), facecolors=colour)
        ax.text((start + end) / 2, y, str(rep["index"]), ha="center", va="center", fontsize=8)
        if rep["decided_at_s"] is not None:
            ax.vlines(rep["decided_at_s"], y - 0.38, y + 0.38, colors="black", linewidth=1.0)


def _flag_lane(ax: Axes, summary: SessionSummary, side: Any, y: int, duration: float) -> None:
    raised: dict[str, float] = {}
    spans: list[tuple[str, float, float]] = []
    for flag in summary["flags"]:
        if flag["side"] != side:
            continue
        kind = str(flag["kind"])
        if kind.endswith("-cleared"):
            base = kind.removesuffix("-cleared")
            if base in raised:
                spans.append((base, raised.pop(base), float(flag["time_s"])))
        else:
            raised.setdefault(kind, float(flag["time_s"]))
    spans += [(kind, at, duration) for kind, at in raised.items()]
    kinds = sorted({kind for kind, _, _ in spans})
    height = 0.6 / max(1, len(kinds))
    for kind, start, stop in spans:
        bottom = y + 0.3 - height * (kinds.index(kind) + 1)
        ax.broken_barh([(start, stop - start)], (bottom, height), facecolors=FLAG_COLOUR)
        ax.text(
            start,
            bottom + height / 2,
            f" {kind} ",
            ha="left",
            va="center",
            fontsize=8,
            color="white",
        )
    if not spans:
        ax.text(
            duration / 2, y, "not raised", ha="center", va="center", fontsize=9, color="#555555"
        )


def _risk_lane(ax: Axes, summary: SessionSummary, side: Any, y: int, duration: float) -> None:
    changes = [(0.0, "ok")] + [
        (float(r["time_s"]), str(r["level"]))
        for r in summary["cramp_risk_timeline"]
        if r["side"] == side
    ]
    merged = [c for i, c in enumerate(changes) if i == 0 or c[1] != changes[i - 1][1]]
    for (start, level), (stop, _) in zip(merged, [*merged[1:], (duration, "")], strict=True):
        if stop <= start:
            continue
        ax.broken_barh([(start, stop - start)], (y - 0.3, 0.6), facecolors=RISK_COLOURS[level])
        if stop - start > duration / 30:
            colour = "white" if level == "warning" else "black"
            ax.text(start, y, f" {level}", ha="left", va="center", fontsize=8, color=colour)
