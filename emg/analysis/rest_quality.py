"""The rest signal-quality check of an analysed recording: what ``emg analyze`` prints and the
report shows (the same check, :func:`emg.analysis.signal_quality.check_signal_quality`).

The guided calibration's check is taken when the session stored one; else the check runs on the
rest period given, or on the quiet lead-in before the first onset when that is long enough.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from emg.analysis.offline import OfflineResult
from emg.analysis.signal_quality import QualityConfig, check_signal_quality
from emg.recording import Recording

#: The quiet lead-in before the first onset is checked like a rest when at least this long.
LEAD_IN_MIN_S = 2.0
#: Gap kept between the end of that lead-in and the first onset.
LEAD_IN_GUARD_S = 0.25


@dataclass(frozen=True)
class QualityCheck:
    """A rest signal-quality check (see :mod:`emg.analysis.signal_quality`).

    Attributes
    ----------
    origin
        Where it comes from (stored by the guided calibration, or run on which stretch).
    report
        :meth:`QualityReport.to_dict` form.
    """

    origin: str
    report: Mapping[str, Any]


def quality_check(recording: Recording, result: OfflineResult) -> QualityCheck | None:
    """The rest signal-quality check to show: the guided calibration's, if stored; else
    :func:`check_signal_quality` run on the rest period, or on the quiet lead-in before the
    first onset when it is long enough.

    Parameters
    ----------
    recording
        The recording (its metadata may hold the guided calibration's report).
    result
        Its analysis (rest period, band and notch, onsets).

    Returns
    -------
    QualityCheck or None
        None when no rest stretch is known or long enough.
    """
    calibration = recording.metadata.get("calibration")
    guided = calibration.get("guided") if isinstance(calibration, Mapping) else None
    if isinstance(guided, Mapping):
        found = guided.get("result")
        stored = found.get("quality") if isinstance(found, Mapping) else None
        if isinstance(stored, Mapping):
            return QualityCheck("by the guided calibration (stored with the session)", stored)
    fs, chain = recording.sample_rate, result.config
    if chain.rest is not None:
        start, stop = chain.rest
        origin = f"on the rest period {start:g}–{stop:g} s"
    else:
        first = min((o.index for o in result.onsets), default=recording.n_samples)
        start, stop = 0.0, max(0.0, first / fs - LEAD_IN_GUARD_S)
        if first >= recording.n_samples:
            stop = recording.duration_s
        origin = (
            f"on the quiet stretch before the first onset, 0–{stop:.1f} s (no rest period given)"
        )
    x = recording.data[round(start * fs) : round(stop * fs)].astype(np.float64)
    if len(x) < LEAD_IN_MIN_S * fs:
        return None
    config = QualityConfig(
        highpass_hz=chain.highpass_hz,
        lowpass_hz=chain.lowpass_hz,
        bandpass_order=chain.bandpass_order,
        mains_hz=chain.mains_hz,
    )
    try:
        report = check_signal_quality(x, fs, [c.label for c in result.channels], config)
    except ValueError:
        return None
    return QualityCheck(origin, report.to_dict())
