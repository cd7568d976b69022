"""What the session report says, as plain data: the athlete's summary, the signal-quality,
packet-loss and calibration notes, and the rep table.

Every number comes from the project's analysis: the reps, flags and cramp risk are those of
:func:`emg.analysis.summary.summarize` (what ``emg analyze --json`` prints), the detected mains
that of :func:`emg.analysis.offline.resolve_mains`, the rest check that of
:func:`emg.analysis.signal_quality.check_signal_quality`. What is added here is arithmetic on
them (counts, means of the first and last reps' ratios, the mean envelope over each channel's
bursts) and the words. No I/O: the recording and its analysis come in, plain data goes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from emg.analysis.history import SessionEntry, trend
from emg.analysis.offline import OfflineResult, resolve_mains
from emg.analysis.rest_quality import QualityCheck
from emg.analysis.summary import band_text, cramp_risk_summary, stuck_lines, summarize
from emg.analysis.summary_schema import FlagRow, RepRow, SessionSummary
from emg.dsp.filters import bandpass_edges
from emg.recording import Recording
from emg.wording import BANNER_TEXT, DISCLAIMER, RISK_NOTE, band_note, count

#: Who started a rep, per order, in the athlete's words.
ORDER_WORDS = {
    "glute-first": "the glutes",
    "hamstring-first": "the hamstrings",
    "simultaneous": "both together",
}
#: Flag names as the report writes them.
FLAG_NAMES = {
    "hamstring-first": "hamstring-first flag",
    "glute-first": "glute-first flag",
    "hamstring-share": "hamstring-share flag",
    "outside-own-band": "outside-your-band flag",
}
#: A ratio trend smaller than this (relative change) is "about the same".
RATIO_STEADY = 0.10
#: Guided-calibration step names in plain words.
STEP_NAMES = {
    "quality": "signal check",
    "rest": "rest baseline",
    "mvc-glute": "glute MVC",
    "mvc-hamstring": "hamstring MVC",
}


@dataclass(frozen=True)
class RatioTrend:
    """Glute : hamstring ratio at the start and at the end of a set (one pair).

    Attributes
    ----------
    side
        Side of the pair.
    window
        Reps averaged at each end.
    first_reps, last_reps
        Rep numbers averaged.
    first, last
        Mean ratio of those reps.
    """

    side: str | None
    window: int
    first_reps: tuple[int, ...]
    last_reps: tuple[int, ...]
    first: float
    last: float

    @property
    def change(self) -> float:
        """Relative change from the first to the last reps (-0.2: 20 % lower)."""
        return self.last / self.first - 1 if self.first > 0 else 0.0


@dataclass(frozen=True)
class Paragraph:
    """The summary of one glute/hamstring pair.

    Attributes
    ----------
    heading
        ``""`` for a single pair, else the side (``Left side``).
    sentences
        Plain sentences, in reading order.
    """

    heading: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Glance:
    """One figure of the at-a-glance strip.

    Attributes
    ----------
    label, value
        What it is and its value, as text.
    tone
        Styling hint: ``glute``, ``hamstring``, ``ok``, ``watch``, ``warning`` or ``""``.
    """

    label: str
    value: str
    tone: str = ""


@dataclass(frozen=True)
class ChannelNote:
    """Signal level, quality and packet loss of one channel.

    Attributes
    ----------
    label, muscle, device
        The channel.
    rest_mean_uv, rest_sd_uv
        Rest level of the RMS envelope (the last baseline estimate, as ``emg analyze``).
    rest_range_uv
        Lowest and highest rest mean over all baseline estimates of the set.
    active_uv
        Mean RMS envelope over the channel's bursts.
    snr_db
        ``20 log10(active / rest)``.
    bursts
        Bursts detected.
    median_frequency_hz
        Median frequency over the bursts (as ``emg analyze``).
    lost_samples, lost_percent
        Samples lost in transit (the recording's loss mask).
    loss_runs
        Each run of lost samples, ``(start_s, stop_s)``.
    loss_events
        ``loss`` events of the channel in the recording.
    stuck
        Each stretch in which the channel's samples stayed at one value, ``(start_s,
        stop_s)`` (not those lost in transit).
    """

    label: str
    muscle: str
    device: str
    rest_mean_uv: float | None
    rest_sd_uv: float | None
    rest_range_uv: tuple[float, float] | None
    active_uv: float | None
    snr_db: float | None
    bursts: int
    median_frequency_hz: float | None
    lost_samples: int
    lost_percent: float
    loss_runs: tuple[tuple[float, float], ...]
    loss_events: int
    stuck: tuple[tuple[float, float], ...] = ()

    @property
    def longest_loss_ms(self) -> float:
        """Longest run of lost samples, milliseconds."""
        return max((stop - start for start, stop in self.loss_runs), default=0.0) * 1000


@dataclass(frozen=True)
class ReportContent:
    """Everything the report says.

    Attributes
    ----------
    title
        Page title.
    source
        The recording (path or description).
    facts
        ``(label, value)`` about the session: when, exercise, duration, channels ...
    glance
        The at-a-glance strip.
    paragraphs
        The athlete's summary, one per pair.
    disclaimer
        The project's "training aid, not a diagnosis" note.
    channels
        Per channel levels, quality and loss.
    signal_notes
        Mains, packet loss, sensor events, in sentences.
    calibration_notes
        Baseline, MVC and guided calibration, in sentences.
    quality
        A rest signal-quality check, if one was stored or could be run.
    settings
        ``(label, value)`` of the analysis settings.
    trends
        Ratio trend per pair.
    summary
        :func:`emg.analysis.summary.summarize` of the analysis (reps, flags, cramp risk ...).
    marks
        ``(time_s, kind, description)`` of sensor and user events for the timeline.
    duration_s
        Length of the recording.
    progress
        The athlete's sessions up to this one, when they have earlier ones (else empty).
    """

    title: str
    source: str
    facts: tuple[tuple[str, str], ...]
    glance: tuple[Glance, ...]
    paragraphs: tuple[Paragraph, ...]
    disclaimer: str
    channels: tuple[ChannelNote, ...]
    signal_notes: tuple[str, ...]
    calibration_notes: tuple[str, ...]
    quality: QualityCheck | None
    settings: tuple[tuple[str, str], ...]
    trends: tuple[RatioTrend, ...]
    summary: SessionSummary
    marks: tuple[tuple[float, str, str], ...]
    duration_s: float
    progress: Progress | None = None


@dataclass(frozen=True)
class Progress:
    """An athlete's sessions up to this one, for the progress section.

    Attributes
    ----------
    athlete
        Their name.
    rows
        Per session: date, reps, glute-first share, median lead, median ratio, highest cramp
        risk, whether it is this session (as text, in date order).
    sentence
        The change from the first session to this one, in words.
    """

    athlete: str
    rows: tuple[tuple[str, str, str, str, str, str, bool], ...]
    sentence: str


def progress_of(entries: Sequence[SessionEntry], folder: str) -> Progress | None:
    """The progress section from an athlete's sessions of this session's exercise up to and
    including ``folder``'s (None when this is their first)."""
    this = [e for e in entries if e.folder == folder]
    if not this:
        return None
    entries = [e for e in entries if e.exercise == this[0].exercise]
    if len(entries) < 2:
        return None
    rows = tuple(
        (
            (e.date or "?")[:16].replace("T", " "),
            str(len(e.reps)),
            "–" if e.glute_first_share is None else f"{e.glute_first_share:.0%}",
            "–" if e.median_lead_ms is None else f"{e.median_lead_ms:+.0f} ms",
            "–" if e.median_ratio is None else f"{e.median_ratio:.2f}",
            e.highest_cramp_risk,
            e.folder == folder,
        )
        for e in entries
    )
    change = trend(entries, this[0].exercise)
    share = change.glute_first_share
    sentence = (
        f"Over {change.sessions} {this[0].exercise} sessions the share of reps the glutes "
        f"started went from {rows[0][2]} to {rows[-1][2]}"
        + (f" ({share:+.0%})" if share is not None else "")
        + (
            f", and the median lead changed by {change.median_lead_ms:+.0f} ms."
            if change.median_lead_ms is not None
            else "."
        )
    )
    return Progress(entries[0].athlete, rows, sentence)


def build_content(
    recording: Recording,
    result: OfflineResult,
    settings_from: str = "",
    history: Sequence[SessionEntry] = (),
) -> ReportContent:
    """The report's content for an analysed recording.

    Parameters
    ----------
    recording
        The recording.
    result
        Its analysis (:func:`emg.analysis.offline.analyze_recording`, envelope kept for the
        channels' active levels).
    settings_from
        Where the analysis settings came from, in words (e.g. "as recorded").
    history
        The athlete's sessions up to and including this one (see :func:`progress_of`).

    Returns
    -------
    ReportContent
        Plain data for the figures and the page.
    """
    summary = summarize(result, recording)
    exercise = summary["exercise"]
    sides = [pair["side"] for pair in summary["pairs"]]
    trends = tuple(
        trend
        for side in sides
        if (trend := ratio_trend(_reps_of(summary, side), result.analysis.exercise.flag_window))
    )
    paragraphs = tuple(
        Paragraph(
            f"{side.capitalize()} side" if side and len(sides) > 1 else "",
            tuple(_pair_sentences(summary, result, side, recording.duration_s)),
        )
        for side in sides
    )
    if not sides:
        paragraphs = (
            Paragraph(
                "",
                (
                    "No glute/hamstring pair of channels was found, so there are no reps, "
                    "onset order, flag or cramp risk: name the channels by their muscle "
                    "(glute, hamstring) or use --channel.",
                ),
            ),
        )
    paragraphs = _with_unpaired(paragraphs, summary)
    if recording.metadata.get("complete") is False:
        cut = (
            "The recording was cut short (it never ended cleanly): this report covers what "
            "reached the disk."
        )
        first = paragraphs[0]
        paragraphs = (Paragraph(first.heading, (cut, *first.sentences)), *paragraphs[1:])
    channels = tuple(
        _channel_note(recording, result, summary, i) for i in range(len(result.channels))
    )
    name = str(exercise["name"]).replace("-", " ")
    return ReportContent(
        title=f"{name.capitalize()} session report",
        source=recording.source or "recording",
        facts=tuple(_facts(recording, summary)),
        glance=tuple(_glance(summary, result)),
        paragraphs=paragraphs,
        disclaimer=DISCLAIMER,
        channels=channels,
        signal_notes=tuple(_signal_notes(recording, result, channels)),
        calibration_notes=tuple(_calibration_notes(recording, result)),
        quality=_rest_quality(summary),
        settings=tuple(_settings(summary, settings_from)),
        trends=trends,
        summary=summary,
        marks=tuple(
            (e.time_s, e.kind, e.description)
            for e in recording.events
            if e.kind in ("disconnect", "reconnect", "mark")
        ),
        duration_s=recording.duration_s,
        progress=progress_of(history, history[-1].folder) if history else None,
    )


# ---------------------------------------------------------------------- the athlete's summary


def _with_unpaired(
    paragraphs: tuple[Paragraph, ...], summary: SessionSummary
) -> tuple[Paragraph, ...]:
    """``paragraphs`` and a sentence per glute or hamstring channel in no pair (the
    summary's ``unpaired``): in the one paragraph, or under their own heading beside the
    sides' paragraphs."""
    sentences = tuple(f"{item['reason']}." for item in summary["unpaired"])
    if not sentences:
        return paragraphs
    if len(paragraphs) == 1:
        first = paragraphs[0]
        return (Paragraph(first.heading, (*first.sentences, *sentences)),)
    return (*paragraphs, Paragraph("Channels in no pair", sentences))


def ratio_trend(reps: Sequence[RepRow], window: int) -> RatioTrend | None:
    """Mean ratio of the first and of the last ``window`` reps that have one.

    Parameters
    ----------
    reps
        Rep summaries of one pair (:func:`emg.analysis.summary.rep_summary`), in order.
    window
        Reps averaged at each end (the exercise's flag window); fewer when the set has fewer
        than twice as many reps with a ratio.

    Returns
    -------
    RatioTrend or None
        None with fewer than two reps with a ratio.
    """
    known = [(int(r["index"]), float(r["ratio"])) for r in reps if r["ratio"] is not None]
    if len(known) < 2:
        return None
    n = max(1, min(window, len(known) // 2))
    first, last = known[:n], known[-n:]
    return RatioTrend(
        reps[0]["side"],
        n,
        tuple(i for i, _ in first),
        tuple(i for i, _ in last),
        float(np.mean([v for _, v in first])),
        float(np.mean([v for _, v in last])),
    )


def rep_list(indices: Sequence[int]) -> str:
    """Rep numbers with runs shortened: ``[1, 2, 3, 4, 7]`` -> ``"1–4, 7"``."""
    parts: list[str] = []
    run: list[int] = []
    for index in indices:
        if run and index == run[-1] + 1:
            run.append(index)
            continue
        if run:
            parts.append(_run_text(run))
        run = [index]
    if run:
        parts.append(_run_text(run))
    return ", ".join(parts)


def _run_text(run: list[int]) -> str:
    if len(run) == 1:
        return str(run[0])
    if len(run) == 2:
        return f"{run[0]}, {run[1]}"
    return f"{run[0]}–{run[-1]}"


def _reps_of(summary: SessionSummary, side: str | None) -> list[RepRow]:
    return [r for r in summary["reps"] if r["side"] == side]


def _started(indices: Sequence[int], words: str = "") -> str:
    words = f" {words}" if words else ""
    if not indices:
        return f"none{words}"
    return f"{len(indices)}{words} ({_reps_word(indices)})"


def _reps_word(indices: Sequence[int]) -> str:
    return ("rep " if len(indices) == 1 else "reps ") + rep_list(indices)


def _pair_sentences(
    summary: SessionSummary, result: OfflineResult, side: str | None, duration_s: float
) -> list[str]:
    exercise = summary["exercise"]
    name = str(exercise["name"]).replace("-", " ")
    margin = float(exercise["margin_ms"])
    reps = _reps_of(summary, side)
    where = f" on the {side} side" if side else ""
    if not reps:
        return [
            f"No reps were found{where} in the {duration_s:.0f} s recorded: neither muscle "
            "rose clearly above its rest level, or the set had not started.",
            _risk_sentence(result, side),
        ]
    sentences = [
        f"{count(len(reps), 'rep')} of the {name} {'was' if len(reps) == 1 else 'were'} "
        f"found{where} "
        f"in the {duration_s:.0f} s recorded."
    ]
    by_order: dict[str | None, list[int]] = {}
    for rep in reps:
        by_order.setdefault(rep["order"], []).append(int(rep["index"]))
    glutes, hamstrings = by_order.get("glute-first", []), by_order.get("hamstring-first", [])
    sentences.append(
        f"The glutes started {_started(glutes, 'of them')}, the hamstrings {_started(hamstrings)}."
    )
    together = by_order.get("simultaneous", [])
    if together:
        sentences.append(
            f"In {len(together)} ({_reps_word(together)}) both muscles started together, "
            f"within the ±{margin:g} ms margin."
        )
    undecided = [r for r in reps if r["order"] is None]
    if undecided:
        numbers = [int(r["index"]) for r in undecided]
        sentences.append(
            f"{len(undecided)} ({_reps_word(numbers)}) could not be called: "
            f"{_why_unjudged(undecided)}."
        )
    expected = exercise["expected_order"]
    if expected == "glute-first":
        sentences.append(f"In the {name} the glutes should start the movement.")
    elif expected == "hamstring-first":
        sentences.append(f"In the {name} the hamstrings are expected to start the movement.")
    else:
        sentences.append(f"In the {name} either order is normal, so no order flag is raised.")
    sentences.extend(_flag_sentences(summary, result, side))
    sentences.extend(_band_sentences(summary, reps))
    sentences.append(_risk_sentence(result, side, reps))
    trend = ratio_trend(reps, result.analysis.exercise.flag_window)
    sentences.append(_ratio_sentence(reps, trend, summary["normalisation"]["unit"]))
    return sentences


def _flag_sentences(summary: SessionSummary, result: OfflineResult, side: str | None) -> list[str]:
    exercise = result.analysis.exercise
    flags = [f for f in summary["flags"] if f["side"] == side]
    kinds = [k for k in (exercise.flagged_order, "hamstring-share") if k is not None]
    sentences: list[str] = []
    for kind in kinds:
        raised_at: list[tuple[FlagRow, FlagRow | None]] = []
        for flag in flags:
            if flag["kind"] == kind:
                raised_at.append((flag, None))
            elif flag["kind"] == f"{kind}-cleared" and raised_at and raised_at[-1][1] is None:
                raised_at[-1] = (raised_at[-1][0], flag)
        name = FLAG_NAMES.get(kind, f"{kind} flag")
        if not raised_at:
            if kind == "hamstring-share":
                continue
            muscles = kind.split("-")[0] + "s"
            sentences.append(
                f"The {name} did not go up (it needs the {muscles} to start "
                f"{exercise.flag_count} of the last {exercise.flag_window} reps)."
            )
            continue
        for number, (flag, cleared) in enumerate(raised_at):
            reps = [int(r) for r in flag["reps"]]
            again = " again" if number else ""
            text = f"The {name} went up{again} at {flag['time_s']:.1f} s"
            if reps and kind != "hamstring-share":
                muscles = kind.split("-")[0] + "s"
                text += f", after rep {max(reps)} (the {muscles} started {_reps_word(reps)})"
            elif reps:
                text += f", after rep {max(reps)}"
            text += f": “{BANNER_TEXT.get(kind, kind)}”."
            if cleared is None:
                text += " It stayed up to the end of the set."
            else:
                text += f" It came down at {cleared['time_s']:.1f} s."
            sentences.append(text)
    return sentences


def _band_sentences(summary: SessionSummary, reps: Sequence[RepRow]) -> list[str]:
    """Each rep against the athlete's own band, when the analysis had one."""
    band = summary.get("personal_band")
    if band is None:
        return []
    since = f" since {band['since'][:10]}" if band["since"] else ""
    where = (
        f"your own band (lead {band['lead_ms']:+.0f} ± {band['lead_halfwidth_ms']:.0f} ms, "
        f"from {band['reps']} glute-first reps of {band['sessions']} earlier sessions{since})"
    )
    outside = [
        r
        for r in reps
        if r["lead_ms"] is not None
        and band_note(r["lead_ms"], band["lead_ms"], band["lead_halfwidth_ms"])
    ]
    if not outside:
        return [f"Every rep's lead was inside {where}."]
    listed = ", ".join(f"rep {r['index']} ({r['lead_ms']:+.0f} ms)" for r in outside)
    return [
        f"Against {where}, {listed} fell outside it: the {FLAG_NAMES['outside-own-band']}, "
        "beside the exercise rule (it decides no order)."
    ]


#: Why a rep could not be called, by what its row says, most telling first.
UNJUDGED_REASONS = (
    ("no_signal", "a sensor gave no signal (stuck at one value or flat)"),
    ("not_recorded", "a muscle's samples were lost in transit"),
    ("under_way_at_start", "the rep was under way when the recording began"),
    ("missing", "a muscle did not switch on"),
)


def _why_unjudged(reps: Sequence[RepRow], otherwise: str = "the order was not clear") -> str:
    """Why these reps could not be called (or measured), in words: each rep counted under the
    first reason of :data:`UNJUDGED_REASONS` its row gives, else ``otherwise``."""
    found: dict[str, list[int]] = {}
    for rep in reps:
        row = cast(Mapping[str, Any], rep)
        reason = next((text for key, text in UNJUDGED_REASONS if row.get(key)), None)
        found.setdefault(reason or otherwise, []).append(int(rep["index"]))
    if len(found) == 1:
        return next(iter(found))
    return "; ".join(f"in {_reps_word(numbers)} {reason}" for reason, numbers in found.items())


def _risk_sentence(result: OfflineResult, side: str | None, reps: Sequence[RepRow] = ()) -> str:
    risk = cramp_risk_summary([r for r in result.risks if r.side == side], result.sample_rate)
    note = f"(a {RISK_NOTE})"
    if risk["level"] == "ok":
        judged = [r for r in reps if r["order"] is not None]
        if reps and 2 * len(judged) < len(reps):
            called = f"only {len(judged)}" if judged else "none"
            return (
                f"Cramp risk {note} stayed at ok, but {called} of the "
                f"{count(len(reps), 'rep')} could be called, so it says little about this set."
            )
        return (
            f"Cramp risk {note} stayed at ok: the hamstrings did not keep leading, did not "
            "stay on after the glutes relaxed or between reps, and showed no sign of fatigue."
        )
    reasons = "; ".join(risk["reasons"])
    level, at = risk["level"], risk["time_s"]
    text = f"Cramp risk {note} reached {level} at {at:.1f} s, because: {reasons}."
    if risk["final_level"] != level:
        text += f" By the end of the set it was {risk['final_level']}."
    return text


def _ratio_sentence(reps: Sequence[RepRow], trend: RatioTrend | None, unit: str) -> str:
    basis = (
        "both in %MVC"
        if unit == "%MVC"
        else "each muscle relative to its own rest level, not to its maximum"
    )
    ratios = [r["ratio"] for r in reps if r["ratio"] is not None]
    if trend is None:
        if ratios:
            return f"The glute : hamstring ratio of the rep was {ratios[0]:.2f} ({basis})."
        unjudged = [r for r in reps if r["ratio"] is None]
        why = _why_unjudged(unjudged, "a muscle did not switch on")
        return f"No glute : hamstring ratio could be computed: {why}."
    text = (
        f"The glute : hamstring ratio went from {trend.first:.2f} (mean of "
        f"{_reps_word(trend.first_reps)}) to {trend.last:.2f} ({_reps_word(trend.last_reps)})"
    )
    if trend.change <= -RATIO_STEADY:
        text += ": the hamstrings took on more of the work as the set went on"
    elif trend.change >= RATIO_STEADY:
        text += ": the glutes took on more of the work as the set went on"
    else:
        text += ": about the same through the set"
    return text + f" ({basis}; above 1 the glutes worked harder)."


def _glance(summary: SessionSummary, result: OfflineResult) -> list[Glance]:
    reps = summary["reps"]
    if not summary["pairs"]:
        return [Glance("reps", "no glute/hamstring pair")]
    flagged = result.analysis.exercise.flagged_order
    raised = [f for f in summary["flags"] if f["kind"] == flagged]
    risk = summary["cramp_risk"]
    sides = [p["side"] for p in summary["pairs"] if p["side"]]

    def tile(label: str, order: str | None = None, tone: str = "") -> Glance:
        # a set of both sides counts each side's reps: "2 · 2" under "(left · right)"
        def n(side: str | None) -> int:
            return sum((order is None or r["order"] == order) and r["side"] == side for r in reps)

        if not sides:
            return Glance(label, str(n(None)), tone)
        return Glance(f"{label} ({' · '.join(sides)})", " · ".join(str(n(s)) for s in sides), tone)

    items = [
        tile("reps"),
        tile("glutes first", "glute-first", "glute"),
        tile("hamstrings first", "hamstring-first", "hamstring"),
    ]
    if any(r["order"] == "simultaneous" for r in reps):
        items.append(tile("together", "simultaneous"))
    if flagged is not None:
        value = f"up at {raised[0]['time_s']:.1f} s" if raised else "not raised"
        items.append(Glance(FLAG_NAMES.get(flagged, flagged), value, "warning" if raised else "ok"))
    items.append(Glance("cramp risk", str(risk["level"]), str(risk["level"])))
    return items


# ---------------------------------------------------------------------- signal and calibration


def loss_runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, stop)`` sample ranges of every run of True in a 1-D mask (stop exclusive)."""
    padded = np.concatenate([[False], mask.astype(bool), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


def active_level(result: OfflineResult, channel: int) -> float | None:
    """Mean RMS envelope of a channel over all its bursts (None without bursts or envelope).

    Parameters
    ----------
    result
        The analysis, with its envelope kept.
    channel
        Channel index.

    Returns
    -------
    float or None
        Microvolts.
    """
    envelope = result.envelope
    if envelope.size == 0:
        return None
    total, count = 0.0, 0
    for burst in result.bursts_of(channel):
        part = envelope[burst.onset : burst.offset, channel]
        total += float(part.sum())
        count += len(part)
    return total / count if count else None


def _channel_note(
    recording: Recording, result: OfflineResult, summary: SessionSummary, i: int
) -> ChannelNote:
    channel = result.channels[i]
    fs = recording.sample_rate
    base = summary["baseline"][channel.label]
    rest = base["mean_uv"] if base else None
    means = [float(b.mean[i]) for b in result.baselines]
    active = active_level(result, i)
    snr = (
        20 * float(np.log10(active / rest))
        if active is not None and rest is not None and rest > 0 and active > 0
        else None
    )
    runs = loss_runs(recording.lost[:, i]) if recording.lost.size else []
    lost = int(recording.lost[:, i].sum()) if recording.lost.size else 0
    events = [
        e for e in recording.events if e.kind == "loss" and e.channel in (channel.label, None)
    ]
    return ChannelNote(
        label=channel.label,
        muscle=channel.muscle,
        device=channel.device,
        rest_mean_uv=rest,
        rest_sd_uv=base["sd_uv"] if base else None,
        rest_range_uv=(min(means), max(means)) if means else None,
        active_uv=active,
        snr_db=snr,
        bursts=len(summary["bursts"][channel.label]),
        median_frequency_hz=summary["median_frequency_hz"][channel.label],
        lost_samples=lost,
        lost_percent=100.0 * lost / max(1, recording.n_samples),
        loss_runs=tuple((a / fs, b / fs) for a, b in runs),
        loss_events=len(events),
        stuck=tuple((a, b) for a, b in summary.get("stuck", {}).get(channel.label, [])),
    )


def _signal_notes(
    recording: Recording, result: OfflineResult, channels: Sequence[ChannelNote]
) -> list[str]:
    config = result.config
    notes: list[str] = []
    detected = resolve_mains(recording, config, "auto").mains_hz
    start, stop = config.rest or (0.0, config.baseline_warmup_s)
    looked = f"{start:g}–{min(stop, recording.duration_s):g} s"
    found = (
        f"mains hum at {detected:g} Hz stands out in the spectrum of {looked}"
        if detected
        else f"no mains hum stands out in the spectrum of {looked}"
    )
    if config.mains_hz:
        notes.append(
            f"Mains notch at {config.mains_hz:g} Hz and its harmonics up to "
            f"{bandpass_edges(result.sample_rate, config.highpass_hz, config.lowpass_hz)[1]:g} "
            f"Hz; {found}."
        )
    else:
        notes.append(f"No mains notch; {found}.")
    lossy = [c for c in channels if c.lost_samples]
    if not lossy:
        notes.append("No samples were lost in transit.")
    for c in lossy:
        found_in = (
            f"{count(c.loss_events, 'loss event')} in the recording"
            if c.loss_events
            else "from the recording's loss mask"
        )
        notes.append(
            f"{c.label}: {c.lost_samples} samples lost in transit ({c.lost_percent:.2f} % of "
            f"the set) in {count(len(c.loss_runs), 'gap')}, the longest "
            f"{c.longest_loss_ms:.0f} ms ({found_in}); lost samples are filled with 0 and "
            "the analysis runs on."
        )
    for c in channels:
        notes += [f"{c.label}: {line}." for line in stuck_lines([list(r) for r in c.stuck])]
    for event in recording.events:
        if event.kind in ("disconnect", "reconnect"):
            what = f": {event.description}" if event.description else ""
            notes.append(f"Sensor {event.kind} at {event.time_s:.1f} s{what}.")
    return notes


def _calibration_notes(recording: Recording, result: OfflineResult) -> list[str]:
    chain = result.config
    notes: list[str] = []
    if chain.rest is not None:
        notes.append(
            f"Baseline from the rest period {chain.rest[0]:g}–{chain.rest[1]:g} s: the onset "
            f"threshold is its mean + {chain.k:g} SD."
        )
    else:
        notes.append(
            "No rest period was given: the baseline is the noise floor (the quietest "
            f"{chain.baseline_window_s * 1000:g} ms windows of the last "
            f"{chain.baseline_horizon_s:g} s), first after {chain.baseline_ready_s():g} s and "
            f"updated every {chain.baseline_update_s:g} s; the onset threshold is its mean + "
            f"{chain.k:g} SD."
        )
    mvc = dict(result.analysis.normalisation.mvc_uv)
    if mvc:
        values = ", ".join(f"{group} {value:.1f} µV" for group, value in sorted(mvc.items()))
        notes.append(f"MVC references: {values}; levels and ratios are in %MVC.")
    else:
        notes.append(
            "No MVC calibration: levels are multiples of each muscle's rest level, so the "
            "ratio compares how far each muscle rose above its own rest, not how hard it "
            "worked against its maximum."
        )
    calibration = recording.metadata.get("calibration")
    guided = calibration.get("guided") if isinstance(calibration, Mapping) else None
    if isinstance(guided, Mapping):
        notes.extend(_guided_notes(guided))
    cut_short = recording.metadata.get("complete") is False
    said = "Recovered from a cut-short recording" if cut_short else "Left out on reading"
    for item in recording.metadata.get("recovered") or []:
        notes.append(f"{said}: {item}.")
    return notes


def _guided_notes(guided: Mapping[str, Any]) -> list[str]:
    found = guided.get("result")
    if not isinstance(found, Mapping):
        return ["A guided calibration was started but did not finish."]
    notes: list[str] = []
    attempts = found.get("attempts") or {}
    if attempts:
        steps = ", ".join(
            f"{STEP_NAMES.get(step, step)} {count(int(n), 'attempt')}"
            for step, n in attempts.items()
        )
        notes.append(f"Guided calibration: {steps}.")
    else:
        notes.append("Guided calibration done.")
    rest = found.get("rest_s")
    if rest:
        notes.append(f"Guided rest baseline: {float(rest[0]):.1f}–{float(rest[1]):.1f} s.")
    rms = found.get("rest_rms_uv") or {}
    if rms:
        values = ", ".join(f"{label} {float(v):.1f} µV" for label, v in rms.items())
        notes.append(f"Band-passed rest RMS during the calibration: {values}.")
    for warning in found.get("warnings") or []:
        notes.append(f"Calibration warning: {warning}")
    return notes


def _rest_quality(summary: SessionSummary) -> QualityCheck | None:
    """The rest signal-quality check the analysis made (its summary's ``rest_quality``, from
    :func:`emg.analysis.rest_quality.quality_check`), not made again."""
    found = summary["rest_quality"]
    if found is None:
        return None
    report = {key: value for key, value in found.items() if key != "origin"}
    return QualityCheck(str(found["origin"]), report)


# ---------------------------------------------------------------------- facts and settings


def _facts(recording: Recording, summary: SessionSummary) -> list[tuple[str, str]]:
    meta = recording.metadata
    facts = [("recording", recording.source or "in memory")]
    if meta.get("started_at"):
        facts.append(("recorded", str(meta["started_at"]).replace("T", " ")[:19]))
    facts.append(("exercise", str(summary["exercise"]["name"]).replace("-", " ")))
    if meta.get("subject"):
        facts.append(("subject", str(meta["subject"])))
    facts.append(
        (
            "length",
            f"{recording.duration_s:.1f} s at {recording.sample_rate:g} Hz",
        )
    )
    facts.append(
        (
            "channels",
            ", ".join(
                f"{c['label']}" + (f" ({c['muscle']})" if c["muscle"] != c["label"] else "")
                for c in summary["channels"]
            ),
        )
    )
    sensors = meta.get("sensors")
    if isinstance(sensors, list) and sensors:
        names = [str(s.get("name", "")) for s in sensors if isinstance(s, Mapping)]
        facts.append(("sensors", ", ".join(n for n in names if n)))
    if meta.get("source") and isinstance(meta["source"], str):
        facts.append(("source", meta["source"]))
    if meta.get("software"):
        facts.append(("recorded with", str(meta["software"])))
    return facts


def _settings(summary: SessionSummary, settings_from: str) -> list[tuple[str, str]]:
    s = summary["settings"]
    exercise = summary["exercise"]
    rows = []
    if settings_from:
        rows.append(("settings", settings_from))
    rows += [
        ("band-pass", f"{band_text(summary, '–')}, order {s['bandpass_order']}"),
        ("mains notch", f"{s['mains_hz']:g} Hz" if s["mains_hz"] else "off"),
        ("envelope", f"trailing RMS, {s['envelope_s'] * 1000:g} ms"),
        (
            "onset",
            f"{s['detector']} detector, baseline + {s['k']:g} SD held {s['hold_s'] * 1000:g} ms",
        ),
        (
            "order",
            f"expected {exercise['expected_order']}, margin ±{exercise['margin_ms']:g} ms",
        ),
        ("flag", str(exercise["flag_rule"])),
        ("levels", str(summary["normalisation"]["unit"])),
    ]
    return rows
