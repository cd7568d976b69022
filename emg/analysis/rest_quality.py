"""The rest signal-quality check of an analysed recording: what ``emg analyze`` prints and the
report shows (the same check, :func:`emg.analysis.signal_quality.check_signal_quality`).

The guided calibration's check is taken when the session stored one; else the check runs on the
rest period given, or on the quiet lead-in before the first onset when that is long enough. A
rest period given is also compared with the quietest stretches of the whole recording
(:func:`rest_activity`): one laid over a rep sets the onset threshold above the bursts, and
the absolute noise limit alone did not tell (bursts of 30-60 µV RMS in a 3 s stretch average
to less than its 20 µV).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.analysis.offline import OfflineResult
from emg.analysis.signal_quality import (
    QualityConfig,
    QualityProblem,
    QualityReport,
    check_signal_quality,
    rest_filtered,
)
from emg.recording import Recording
from emg.wording import ACTIVE_REST_REMEDY

FloatArray = npt.NDArray[np.float64]

#: The quiet lead-in before the first onset is checked like a rest when at least this long.
LEAD_IN_MIN_S = 2.0
#: Gap kept between the end of that lead-in and the first onset.
LEAD_IN_GUARD_S = 0.25
#: Windows the recording's quietest stretches are measured in, seconds (the noise floor's).
QUIET_WINDOW_S = 0.25
#: The quietest stretches: this quantile of the windows' RMS.
QUIET_QUANTILE = 0.1
#: A rest period whose RMS is more than this many times the quietest stretches' holds activity
#: (rest itself varies by some tens of per cent between windows; a burst is 10-30 times it).
ACTIVE_REST_RATIO = 2.0


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
    config = QualityConfig(
        highpass_hz=chain.highpass_hz,
        lowpass_hz=chain.lowpass_hz,
        bandpass_order=chain.bandpass_order,
        mains_hz=chain.mains_hz,
    )
    # a rest period given is checked from the check's shortest stretch, a lead-in from longer
    if len(x) < (config.min_duration_s if chain.rest is not None else LEAD_IN_MIN_S) * fs:
        return None
    try:
        report = check_signal_quality(x, fs, [c.label for c in result.channels], config)
    except ValueError:
        return None
    if chain.rest is not None:
        ratios = rest_activity(recording.data, fs, (start, stop), config)
        report = _with_activity(report, ratios, chain.rest)
    return QualityCheck(origin, report.to_dict())


def rest_activity(
    data: npt.ArrayLike, fs: float, rest: tuple[float, float], config: QualityConfig
) -> FloatArray:
    """How many times the recording's quietest stretches a rest period's RMS is, per channel.

    Parameters
    ----------
    data
        The whole recording, raw µV, ``(n_samples, n_channels)``.
    fs
        Sample rate, Hz.
    rest
        The rest period, seconds ``(start, stop)``.
    config
        The band, notch and settling of the check (:func:`rest_filtered`).

    Returns
    -------
    ndarray
        Per channel the rest's RMS over the :data:`QUIET_QUANTILE` quantile of the RMS of the
        recording's :data:`QUIET_WINDOW_S` windows (after the filters settle); NaN where that
        is 0 or there are too few windows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((20000, 1))
    >>> x[4000:8000] *= 20  # a burst from 2 to 4 s
    >>> config = QualityConfig()
    >>> float(rest_activity(x, 2000.0, (1.0, 5.0), config)[0]) > 5
    True
    >>> float(rest_activity(x, 2000.0, (6.0, 9.0), config)[0]) < 1.5
    True
    """
    filtered = rest_filtered(np.asarray(data, dtype=np.float64), fs, config, config.mains_hz)
    settle = round(config.settle_s * fs)
    width = max(1, round(QUIET_WINDOW_S * fs))
    count = len(filtered) // width
    start = max(round(rest[0] * fs) - settle, 0)
    stop = max(round(rest[1] * fs) - settle, start)
    part = filtered[start:stop]
    if count < 4 or len(part) == 0:
        return np.full(filtered.shape[1], np.nan)
    windows = filtered[: count * width].reshape(count, width, -1)
    quiet = np.quantile(np.sqrt(np.mean(windows * windows, axis=1)), QUIET_QUANTILE, axis=0)
    rms = np.sqrt(np.mean(part * part, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: FloatArray = np.where(quiet > 0, rms / quiet, np.nan)
    return ratio


def _with_activity(
    report: QualityReport, ratios: FloatArray, rest: tuple[float, float]
) -> QualityReport:
    """``report`` with a problem on each channel whose rest period holds activity."""
    channels = []
    for channel, ratio in zip(report.channels, ratios, strict=True):
        if np.isfinite(ratio) and ratio > ACTIVE_REST_RATIO and "flat" not in channel.codes():
            problem = QualityProblem(
                "active",
                f"the rest period {rest[0]:g}–{rest[1]:g} s is {ratio:.1f} times as strong as "
                "the quietest stretches of the recording: the muscle is not at rest there, "
                "and the onset threshold is set above its bursts",
                ACTIVE_REST_REMEDY,
            )
            channel = dataclasses.replace(channel, ok=False, problems=(*channel.problems, problem))
        channels.append(channel)
    return dataclasses.replace(report, channels=tuple(channels))
