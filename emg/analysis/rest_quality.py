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
    rest_filter,
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
#: After a lost sample the filters ring for about this long, seconds (the noise floor's rule).
AFTER_LOSS_S = 0.05
#: Windows filtered at once (a minute at 0.25 s): bounds the memory for a long recording.
CHUNK_WINDOWS = 240
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
        origin = f"on the rest period {round(start, 3):g}–{round(stop, 3):g} s"
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
        ratios = rest_activity(recording.data, fs, (start, stop), config, recording.lost)
        report = _with_activity(report, ratios)
    return QualityCheck(origin, report.to_dict())


def rest_activity(
    data: npt.ArrayLike,
    fs: float,
    rest: tuple[float, float],
    config: QualityConfig,
    lost: npt.ArrayLike | None = None,
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
        The band, notch and settling of the check (:func:`rest_filter`).
    lost
        True where a sample was lost in transit (filled with 0 by the readers), like
        ``data``: such samples, and the filters' ringing for :data:`AFTER_LOSS_S` after
        them, are left out of the rest and of the windows (a dropout is no quiet stretch).

    Returns
    -------
    ndarray
        Per channel the rest's RMS over the :data:`QUIET_QUANTILE` quantile of the RMS of the
        recording's whole :data:`QUIET_WINDOW_S` windows (after the filters settle, without
        lost samples); NaN where that is 0, or there are fewer than 4 such windows or no
        such sample of the rest.

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
    values = np.asarray(data)
    n, channels = values.shape
    unusable = _near_loss(lost, values.shape, round(AFTER_LOSS_S * fs))
    unusable[: min(round(config.settle_s * fs), n)] = True
    width = max(1, round(QUIET_WINDOW_S * fs))
    first, last = (min(max(round(t * fs), 0), n) for t in rest)
    window_power, rest_power, rest_count = [], np.zeros(channels), np.zeros(channels)
    filter_ = rest_filter(fs, config, config.mains_hz, channels)
    step = width * CHUNK_WINDOWS  # in parts: a long recording is not filtered whole at once
    for begin in range(0, n, step):
        squares = filter_.process(values[begin : begin + step].astype(np.float64)) ** 2
        squares[unusable[begin : begin + step]] = np.nan
        whole = len(squares) // width * width
        window_power.append(squares[:whole].reshape(-1, width, channels).mean(axis=1))
        part = squares[max(first - begin, 0) : max(last - begin, 0)]
        rest_power += np.nansum(part, axis=0)
        rest_count += np.sum(np.isfinite(part), axis=0)
    powers = np.concatenate(window_power) if window_power else np.zeros((0, channels))
    ratio = np.full(channels, np.nan)
    for channel in range(channels):
        usable = powers[np.isfinite(powers[:, channel]), channel]  # windows without a gap
        if len(usable) < 4 or rest_count[channel] == 0:
            continue
        quiet = float(np.sqrt(np.quantile(usable, QUIET_QUANTILE)))
        if quiet > 0:
            ratio[channel] = float(np.sqrt(rest_power[channel] / rest_count[channel])) / quiet
    return ratio


def _near_loss(
    lost: npt.ArrayLike | None, shape: tuple[int, ...], after: int
) -> npt.NDArray[np.bool_]:
    """Lost samples and the ``after`` samples that follow each, per channel."""
    if lost is None:
        return np.zeros(shape, dtype=bool)
    mask = np.asarray(lost, dtype=bool)
    if mask.shape != shape or not mask.any():
        return np.zeros(shape, dtype=bool)
    # a sample is near a loss when one of the `after` samples before it (or itself) was lost
    counts = np.cumsum(np.vstack([np.zeros((1, shape[1]), int), mask]), axis=0)
    near: npt.NDArray[np.bool_] = (
        counts[1:] - counts[np.maximum(np.arange(shape[0]) - after, 0)] > 0
    )
    return near


def _with_activity(report: QualityReport, ratios: FloatArray) -> QualityReport:
    """``report`` with a problem on each channel whose rest period holds activity."""
    channels = []
    for channel, ratio in zip(report.channels, ratios, strict=True):
        if np.isfinite(ratio) and ratio > ACTIVE_REST_RATIO and "flat" not in channel.codes():
            problem = QualityProblem(
                "active",
                f"the rest is {ratio:.1f} times as strong as the quietest stretches of the "
                "recording: the muscle is not at rest there, and the onset threshold is set "
                "above its bursts",
                ACTIVE_REST_REMEDY,
            )
            channel = dataclasses.replace(channel, ok=False, problems=(*channel.problems, problem))
        channels.append(channel)
    return dataclasses.replace(report, channels=tuple(channels))
