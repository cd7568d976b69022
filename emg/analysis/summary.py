"""Plain, JSON-ready summaries of an offline analysis."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from emg.analysis.offline import OfflineResult
from emg.recording import Recording


def summarize(result: OfflineResult, recording: Recording) -> dict[str, Any]:
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
    dict
        ``file``, ``sample_rate``, ``duration_s``, ``channels``, ``settings``, ``baseline``,
        ``bursts`` (per channel label: ``onset_s``, ``offset_s``, ``peak``, ``complete``) and
        ``median_frequency_hz`` (per channel: median over the windows that lie wholly inside a
        burst; None without such windows).
    """
    fs = result.sample_rate
    labels = [c.label for c in result.channels]
    last = result.baselines[-1] if result.baselines else None
    bursts: dict[str, list[dict[str, Any]]] = {}
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
        "lost_samples": {label: int(recording.lost[:, i].sum()) for i, label in enumerate(labels)},
        "baseline": {
            label: (
                {"mean_uv": round(float(last.mean[i]), 4), "sd_uv": round(float(last.std[i]), 4)}
                if last is not None
                else None
            )
            for i, label in enumerate(labels)
        },
        "bursts": bursts,
        "median_frequency_hz": {
            label: _active_median_frequency(result, i) for i, label in enumerate(labels)
        },
    }


def format_table(summary: dict[str, Any]) -> str:
    """Human-readable text of a :func:`summarize` result."""
    lines = [
        f"{summary['file']}: {summary['duration_s']:.1f} s at {summary['sample_rate']:g} Hz, "
        f"{len(summary['channels'])} channels",
    ]
    settings = summary["settings"]
    mains = f", notch {settings['mains_hz']:g} Hz" if settings["mains_hz"] else ""
    lines.append(
        f"band-pass {settings['highpass_hz']:g}-{settings['lowpass_hz']:g} Hz{mains}, RMS "
        f"{settings['envelope_s'] * 1000:g} ms, onset at baseline + {settings['k']:g} SD held "
        f"{settings['hold_s'] * 1000:g} ms ({settings['detector']})"
    )
    for label, bursts in summary["bursts"].items():
        base = summary["baseline"][label]
        rest = f"rest {base['mean_uv']:.2f} +- {base['sd_uv']:.2f} uV" if base else "no baseline"
        mdf = summary["median_frequency_hz"][label]
        lines.append("")
        lines.append(
            f"{label}: {len(bursts)} bursts; {rest}; median frequency "
            + (f"{mdf:.0f} Hz" if mdf is not None else "n/a")
        )
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
