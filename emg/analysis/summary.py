"""Plain, JSON-ready summaries of an offline analysis."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from emg.analysis.offline import OfflineResult
from emg.analysis.pipeline import UnpairedChannel, unpaired_channels
from emg.analysis.recruitment import RISK_LEVELS, CrampRisk, Flag, RiskLevel
from emg.analysis.reps import Rep
from emg.analysis.rest_quality import quality_check
from emg.analysis.summary_schema import (
    BandInfo,
    BurstRow,
    CrampRiskSummary,
    FlagRow,
    RecruitmentSummary,
    RepRow,
    SessionSummary,
    UnpairedInfo,
)
from emg.block import Channel
from emg.dsp.filters import UPPER_EDGE_FRACTION, bandpass_edges
from emg.dsp.stuck import stuck_run_samples, stuck_runs
from emg.muscles import MUSCLE_GROUPS
from emg.recording import Recording
from emg.wording import DISCLAIMER, STUCK_MEANING


def summarize(result: OfflineResult, recording: Recording) -> SessionSummary:
    """The analysis as plain data: sample rate, channels, settings, baselines and bursts.

    Times are seconds from the start of the recording; amplitudes are microvolts of the
    band-passed signal's RMS envelope.

    Parameters
    ----------
    result
        What :func:`~emg.analysis.offline.analyze_recording` returned.
    recording
        The recording it was run on.

    Returns
    -------
    SessionSummary
        ``file``, ``sample_rate``, ``duration_s``, ``channels``, ``settings`` (the signal
        chain's settings as asked for: :class:`~emg.dsp.chain.ChainConfig`'s fields, to run the
        analysis again with), ``bandpass_hz`` (the band-pass edges ``[low, high]`` the chain
        used: the upper one is ``settings['lowpass_hz']`` limited to 0.45 x the sample rate,
        :func:`~emg.dsp.filters.bandpass_edges`), ``baseline``,
        ``bursts`` (per channel label: ``onset_s``, ``offset_s``, ``peak``, ``complete``) and
        ``median_frequency_hz`` (per channel: median over the windows that lie wholly inside a
        burst; None without such windows); and the recruitment analysis: ``exercise``,
        ``normalisation``, ``pairs``, ``reps``, ``flags``, ``cramp_risk`` (highest level
        reached, with its reasons), ``cramp_risk_timeline``, ``note`` and ``unpaired`` (the
        glute and hamstring channels in no pair, each with its ``reason``); ``rest_quality``,
        the rest signal-quality check (:mod:`emg.analysis.rest_quality`: ``origin``, ``ok``,
        ``verdict``, ``channels`` with their ``problems``), None without a rest stretch.
    """
    fs = result.sample_rate
    labels = [c.label for c in result.channels]
    last = result.baselines[-1] if result.baselines else None
    bursts: dict[str, list[BurstRow]] = {}
    for index, label in enumerate(labels):
        bursts[label] = [
            {
                "onset_s": round(b.onset / fs, 4),
                "offset_s": round(b.offset / fs, 4),
                "peak": round(b.peak, 3),
                "complete": b.complete,
            }
            for b in result.bursts_of(index)
        ]
    settings = dataclasses.asdict(result.config)
    settings["detector"] = result.config.detector
    return {
        "file": recording.source,
        "sample_rate": fs,
        "duration_s": round(recording.duration_s, 4),
        "channels": [
            {"label": c.label, "muscle": c.muscle, "side": c.side, "unit": "uV"}
            for c in result.channels
        ],
        "settings": settings,
        "bandpass_hz": list(
            bandpass_edges(fs, result.config.highpass_hz, result.config.lowpass_hz)
        ),
        "lost_samples": {label: int(recording.lost[:, i].sum()) for i, label in enumerate(labels)},
        "stuck": {label: stuck_stretches(recording, i) for i, label in enumerate(labels)},
        "baseline": {
            label: (
                {"mean_uv": round(float(last.mean[i]), 4), "sd_uv": round(float(last.std[i]), 4)}
                # none for a channel never recorded (lost or stuck throughout): JSON has no NaN
                if last is not None and np.isfinite(last.mean[i]) and np.isfinite(last.std[i])
                else None
            )
            for i, label in enumerate(labels)
        },
        "bursts": bursts,
        "median_frequency_hz": {
            label: _active_median_frequency(result, i) for i, label in enumerate(labels)
        },
        "rest_quality": _rest_quality(recording, result),
        **recruitment_summary(result),
    }


def stuck_stretches(recording: Recording, channel: int) -> list[list[float]]:
    """Where a channel's samples stayed at one value for too long to be a muscle (see
    :mod:`emg.dsp.stuck`), as ``[start_s, stop_s]``: the stretches the signal chain treats as
    not recorded, and a live session writes as ``no-signal`` events. Samples lost in transit
    are no value received (they are reported as lost): they neither count towards a run nor
    end it, as in the chain."""
    fs = recording.sample_rate
    samples = recording.data[:, channel]
    if recording.lost.size and recording.lost[:, channel].any():
        samples = np.where(recording.lost[:, channel], np.nan, samples)
    return [[_time(a, fs), _time(b, fs)] for a, b in stuck_runs(samples, stuck_run_samples(fs))]


def _rest_quality(recording: Recording, result: OfflineResult) -> dict[str, Any] | None:
    """The rest signal-quality check (:func:`emg.analysis.rest_quality.quality_check`) as plain
    data: where it ran (``origin``) and its report; None when no rest stretch was long enough."""
    check = quality_check(recording, result)
    return None if check is None else {"origin": check.origin, **check.report}


def rest_quality_lines(summary: SessionSummary) -> list[str]:
    """One line per problem the rest check found (none when it found none)."""
    quality = summary.get("rest_quality")
    if not quality or quality.get("ok"):
        return []
    return [
        f"rest check ({quality['origin']}): {channel['label']}: {problem['message']}"
        for channel in quality.get("channels", [])
        for problem in channel.get("problems", [])
    ]


def recruitment_summary(result: OfflineResult) -> RecruitmentSummary:
    """Reps, flags and cramp risk of an analysis as plain data (see :func:`summarize`)."""
    fs = result.sample_rate
    exercise = result.analysis.exercise
    method = result.analysis.normalisation.method()
    reps = sorted(result.reps, key=lambda r: (r.start, r.side or ""))
    summary: RecruitmentSummary = {
        "exercise": {
            "name": exercise.name,
            "expected_order": exercise.expected_order,
            "margin_ms": exercise.margin_ms,
            "flag_rule": f"{exercise.flag_count} of the last {exercise.flag_window} reps",
        },
        "normalisation": {
            "method": method,
            "unit": result.analysis.normalisation.unit(),
            "mvc_uv": {k: round(v, 3) for k, v in result.analysis.normalisation.mvc_uv.items()},
        },
        "pairs": [
            {
                "side": pair.side,
                "glute": result.channels[pair.glute].label,
                "hamstring": result.channels[pair.hamstring].label,
            }
            for pair in result.pairs
        ],
        "unpaired": [
            unpaired_summary(unpaired, result.channels)
            for unpaired in unpaired_channels(result.channels, result.pairs)
        ],
        "reps": [rep_summary(rep, fs) for rep in reps],
        "flags": [flag_summary(flag, fs) for flag in result.flags],
        "cramp_risk": cramp_risk_summary(result.risks, fs),
        "cramp_risk_timeline": [
            {"time_s": _time(r.at, fs), "side": r.side, "level": r.level, "reasons": r.reasons}
            for r in result.risks
        ],
        "note": DISCLAIMER,
    }
    band = result.analysis.band
    if band is not None:  # BandInfo has PersonalBand's fields
        summary["personal_band"] = cast(BandInfo, dataclasses.asdict(band))
    return summary


def unpaired_summary(unpaired: UnpairedChannel, channels: Sequence[Channel]) -> UnpairedInfo:
    """A channel in no pair as plain data, with the reason in one line naming it.

    Parameters
    ----------
    unpaired
        What :func:`~emg.analysis.pipeline.unpaired_channels` found.
    channels
        The channels analysed (they name it, and the one paired instead of it).

    Returns
    -------
    UnpairedInfo
        ``label``, ``group``, ``side`` and ``reason``: ``glute_right has no hamstring
        channel on its side: it is in no rep``; ``glute has no hamstring channel to pair with
        (the recording has none): it is in no rep``; ``glute names no side, and no hamstring
        channel is without one: it is in no rep``; ``semitendinosus_left is in no pair
        (biceps_femoris_left is the hamstring channel paired on its side): it is in no rep``.
    """
    label = channels[unpaired.channel].label
    other = "hamstring" if unpaired.group == "glute" else "glute"
    others = [c for c in channels if MUSCLE_GROUPS.get(c.muscle) == other]
    if unpaired.paired_instead is not None:
        instead = channels[unpaired.paired_instead].label
        why = f"is in no pair ({instead} is the {unpaired.group} channel paired on its side)"
    elif not others:
        why = f"has no {other} channel to pair with (the recording has none)"
    elif unpaired.side is not None:
        why = f"has no {other} channel on its side"
    else:
        why = f"names no side, and no {other} channel is without one"
    reason = f"{label} {why}: it is in no rep"
    return {"label": label, "group": unpaired.group, "side": unpaired.side, "reason": reason}


def _seconds(sample: int | None, fs: float) -> float | None:
    return None if sample is None else _time(sample, fs)


def _time(sample: int, fs: float) -> float:
    return round(sample / fs, 4)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def onset_notes(row: Mapping[str, Any]) -> list[str]:
    """What a rep row (or a rep event's data) says about onsets it has not: a muscle that did
    not switch on, and one whose samples were lost or whose signal was flat (rows written
    before that was told have no ``not_recorded`` or ``no_signal``)."""
    notes = [f"no {m} onset" for m in row.get("missing", [])]
    silent = row.get("no_signal", [])
    notes += [
        f"{m} not recorded ({'no signal' if m in silent else 'samples lost'})"
        for m in row.get("not_recorded", [])
    ]
    return notes


def rep_summary(rep: Rep, fs: float) -> RepRow:
    """One rep as plain data; times in seconds, lead in ms, levels in the rep's unit. A
    muscle not recorded in the rep (lost, stuck or flat where its onset was looked for) has no
    onset: what was detected there is where its signal came back, not where it switched on."""
    seen = {g: rep.onsets[g] if g not in rep.unrecorded else None for g in rep.onsets}
    return {
        "index": rep.index,
        "side": rep.side,
        "start_s": _time(rep.start, fs),
        "end_s": _seconds(rep.end, fs),
        "glute_onset_s": _seconds(seen["glute"], fs),
        "hamstring_onset_s": _seconds(seen["hamstring"], fs),
        "glute_offset_s": _seconds(rep.offsets["glute"], fs),
        "hamstring_offset_s": _seconds(rep.offsets["hamstring"], fs),
        "lead_ms": _round(rep.lead_ms, 1),
        "order": rep.order,
        "order_margin_ms": _round(rep.order_margin_ms, 1),
        "ratio": _round(rep.ratio),
        "glute_level": _round(rep.levels.get("glute")),
        "hamstring_level": _round(rep.levels.get("hamstring")),
        "hamstring_share": _round(rep.hamstring_share),
        "unit": "%MVC" if rep.normalisation == "mvc" else "x rest",
        "glute_median_frequency_hz": _round(rep.median_frequency_hz.get("glute"), 1),
        "hamstring_median_frequency_hz": _round(rep.median_frequency_hz.get("hamstring"), 1),
        "missing": list(rep.missing),
        "not_recorded": list(rep.unrecorded),
        "no_signal": list(rep.no_signal),
        "already_active": list(rep.carried),
        "under_way_at_start": rep.under_way,
        "hamstring_elevated_before": rep.hamstring_elevated_before,
        "decided_at_s": _seconds(rep.decided_at, fs),
        "completed_at_s": _seconds(rep.completed_at, fs),
        "complete": rep.complete,
    }


def flag_summary(flag: Flag, fs: float) -> FlagRow:
    """One flag as plain data."""
    return {
        "time_s": _time(flag.at, fs),
        "decided_at_s": _time(flag.at, fs),
        "kind": flag.kind,
        "reps": list(flag.reps),
        "side": flag.side,
    }


def cramp_risk_summary(risks: list[CrampRisk], fs: float) -> CrampRiskSummary:
    """The highest cramp-risk level reached, when it was first reached, and its reasons."""
    if not risks:
        return {"level": "ok", "reasons": [], "time_s": None, "side": None, "final_level": "ok"}
    rank = {level: i for i, level in enumerate(RISK_LEVELS)}
    worst = max(risks, key=lambda r: (rank[r.level], -r.at))
    latest: dict[str | None, RiskLevel] = {}
    for risk in risks:
        latest[risk.side] = risk.level
    return {
        "level": worst.level,
        "reasons": list(worst.reasons),
        "time_s": _seconds(worst.at, fs),
        "side": worst.side,
        "final_level": max(latest.values(), key=lambda level: rank[level]),
    }


def format_table(summary: SessionSummary) -> str:
    """Human-readable text of a :func:`summarize` result."""
    lines = [
        f"{summary['file']}: {summary['duration_s']:.1f} s at {summary['sample_rate']:g} Hz, "
        f"{len(summary['channels'])} channels",
    ]
    settings = summary["settings"]
    mains = f", notch {settings['mains_hz']:g} Hz" if settings["mains_hz"] else ""
    lines.append(
        f"band-pass {band_text(summary)}{mains}, RMS "
        f"{settings['envelope_s'] * 1000:g} ms, onset at baseline + {settings['k']:g} SD held "
        f"{settings['hold_s'] * 1000:g} ms ({settings['detector']})"
    )
    lines.extend(rest_quality_lines(summary))
    lines.extend(_recruitment_lines(summary))
    for label, bursts in summary["bursts"].items():
        base = summary["baseline"][label]
        rest = f"rest {base['mean_uv']:.2f} +- {base['sd_uv']:.2f} uV" if base else "no baseline"
        mdf = summary["median_frequency_hz"][label]
        lines.append("")
        lines.append(
            f"{label}: {len(bursts)} bursts; {rest}; median frequency "
            + (f"{mdf:.0f} Hz" if mdf is not None else "n/a")
        )
        lines.extend(f"  {line}" for line in stuck_lines(summary.get("stuck", {}).get(label, [])))
        if bursts:
            lines.append(
                f"  {'#':>3}  {'onset s':>9}  {'offset s':>9}  {'length s':>8}  {'peak uV':>9}"
            )
        for i, b in enumerate(bursts, 1):
            note = "" if b["complete"] else "  (still active at the end)"
            lines.append(
                f"  {i:>3}  {b['onset_s']:>9.3f}  {b['offset_s']:>9.3f}  "
                f"{b['offset_s'] - b['onset_s']:>8.3f}  {b['peak']:>9.1f}{note}"
            )
    return "\n".join(lines)


def band_text(summary: SessionSummary, dash: str = "-") -> str:
    """The band-pass the chain used, as a summary holds it (``bandpass_hz``), and why its upper
    edge is below the one asked for when it is.

    Parameters
    ----------
    summary
        What :func:`summarize` returned.
    dash
        Between the edges (``-`` in plain text, an en dash in the report).

    Returns
    -------
    str
        ``20-450 Hz``; at 250 Hz sampling ``20-112.5 Hz (450 Hz asked: at most 0.45 x the
        sample rate)``.
    """
    low, high = summary["bandpass_hz"]
    asked = summary["settings"]["lowpass_hz"]
    limited = (
        f" ({asked:g} Hz asked: at most {UPPER_EDGE_FRACTION:g} x the sample rate)"
        if high < asked
        else ""
    )
    return f"{low:g}{dash}{high:g} Hz{limited}"


#: A median rep level above this (% of the MVC given) says the MVC trial was no maximal
#: contraction: dynamic reps reach 100-200 %MVC of an isometric MVC at most.
IMPLAUSIBLE_MVC_PERCENT = 300.0


def mvc_warnings(summary: RecruitmentSummary) -> list[str]:
    """One line per muscle whose reps' median level is above :data:`IMPLAUSIBLE_MVC_PERCENT`
    of the MVC given (none when the levels are not in %MVC)."""
    if summary["normalisation"]["method"] != "mvc":
        return []
    lines = []
    by_muscle = {
        "glute": [rep["glute_level"] for rep in summary["reps"]],
        "hamstring": [rep["hamstring_level"] for rep in summary["reps"]],
    }
    for muscle, values in by_muscle.items():
        levels = [v for v in values if v is not None and np.isfinite(v)]
        if levels and (median := float(np.median(levels))) > IMPLAUSIBLE_MVC_PERCENT:
            lines.append(
                f"{muscle}: the reps' median level is {median:.0f} %MVC: the --mvc value or trial "
                "was no maximal contraction (a rest stretch?); give one"
            )
    return lines


def _recruitment_lines(summary: RecruitmentSummary) -> list[str]:
    exercise = summary["exercise"]
    unpaired = [item["reason"] for item in summary["unpaired"]]
    if not summary["pairs"]:
        return ["", "no glute/hamstring pair of channels: no reps, order or flag", *unpaired]
    unit = summary["normalisation"]["unit"]
    lines = [
        "",
        f"{exercise['name']}: expected {exercise['expected_order']}, margin "
        f"{exercise['margin_ms']:g} ms, flag at {exercise['flag_rule']}; levels in {unit}",
        *unpaired,
        f"  {'rep':>4}  {'side':>5}  {'start s':>8}  {'lead ms':>8}  {'order':<16}  "
        f"{'ratio':>6}  {'glute':>7}  {'hamstring':>9}  {'decided s':>9}",
    ]
    for rep in summary["reps"]:
        lead = f"{rep['lead_ms']:>8.0f}" if rep["lead_ms"] is not None else f"{'-':>8}"
        notes = onset_notes(rep)
        notes += [f"{m} already active" for m in rep["already_active"]]
        if rep.get("under_way_at_start"):
            notes.append("under way when the recording began: order unknown")
        ratio = f"{rep['ratio']:>6.2f}" if rep["ratio"] is not None else f"{'-':>6}"
        lines.append(
            f"  {rep['index']:>4}  {rep['side'] or '':>5}  {rep['start_s']:>8.3f}  {lead}  "
            f"{rep['order'] or 'unknown':<16}  {ratio}  {_level(rep['glute_level'])}  "
            f"  {_level(rep['hamstring_level'])}  {rep['decided_at_s']:>9.3f}"
            + (f"  ({'; '.join(notes)})" if notes else "")
        )
    lines += [f"  {line}" for line in mvc_warnings(summary)]
    for flag in summary["flags"]:
        side = f" ({flag['side']})" if flag["side"] else ""
        lines.append(
            f"  flag at {flag['time_s']:.3f} s{side}: {flag['kind']}, reps "
            f"{', '.join(str(r) for r in flag['reps'])}"
        )
    risk = summary["cramp_risk"]
    called = sum(rep["order"] is not None for rep in summary["reps"])
    few = risk["level"] == "ok" and 2 * called < len(summary["reps"])
    lines.append(
        f"cramp risk: {risk['level']}"
        + (f" from {risk['time_s']:.1f} s" if risk["time_s"] is not None else "")
        + (f" (now {risk['final_level']})" if risk["final_level"] != risk["level"] else "")
        + (
            f" (only {called} of {len(summary['reps'])} reps could be called: it says little)"
            if few
            else ""
        )
    )
    lines.extend(f"  - {reason}" for reason in risk["reasons"])
    lines.append(summary["note"])
    return lines


def stuck_lines(stretches: list[list[float]]) -> list[str]:
    """What a channel's stuck stretches (``[start_s, stop_s]``) mean, a line each."""
    return [
        f"stuck at one value {a:.3f}-{b:.3f} s ({b - a:.1f} s): {STUCK_MEANING}"
        for a, b in stretches
    ]


def _level(value: float | None) -> str:
    return f"{value:>7.1f}" if value is not None else f"{'-':>7}"


def _active_median_frequency(result: OfflineResult, channel: int) -> float | None:
    """Median of the median frequencies of the windows lying wholly inside a burst."""
    fs, window_s = result.sample_rate, result.config.mdf_window_s
    ends = result.mdf_times
    inside = np.zeros(len(ends), dtype=bool)
    for burst in result.bursts_of(channel):
        inside |= (ends - window_s >= burst.onset / fs) & (ends <= burst.offset / fs)
    if not inside.any():
        return None
    return round(float(np.median(result.mdf[inside, channel])), 2)
