"""Onset time by Bonato's double threshold: where the run of active short windows began.

Bonato, D'Alessio & Knaflitz (1998) test the surface EMG sample by sample: the sum of squares
of two successive samples over the noise power is chi-squared with two degrees of freedom at
rest, so a first threshold ``zeta = -2 ln(P_fa)`` is crossed with probability ``P_fa``; a
window of ``m`` successive tests is *active* when at least ``r0`` of them cross it (the second
threshold). Here that test places an onset the main detector has already confirmed: the onset
is the first crossing of the first active window of the unbroken run of active windows that
reaches the detector's own threshold crossing. The defaults are the paper's (``P_fa`` 0.05,
``r0`` 1 of ``m`` 5 samples at 2 kHz, so 2.5 ms), not tuned here. The band-passed signal is not
whitened first (Bonato et al. whiten it): at rest its samples are correlated, which makes
crossings come in small clusters but leaves their rate at ``P_fa``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: probability that a test at rest crosses the first threshold
FALSE_ALARM = 0.05
#: window of successive tests (seconds: 5 samples at 2 kHz) and how many must cross in it
WINDOW_S = 0.0025
MIN_CROSSINGS = 1


def double_threshold_onset(
    x: FloatArray,
    noise_power: float,
    crossing: int,
    fs: float,
    false_alarm: float = FALSE_ALARM,
    window_s: float = WINDOW_S,
    min_crossings: int = MIN_CROSSINGS,
) -> int:
    """Onset of the burst whose envelope crossed the detection threshold at ``crossing``.

    Parameters
    ----------
    x
        Band-passed signal from the earliest sample the onset may be at to at least the
        crossing, 1-D; NaN where samples were lost (those tests never cross).
    noise_power
        Mean square of the signal at rest.
    crossing
        Index into ``x`` of the detection threshold's crossing; the onset is not after it.
    fs
        Sample rate, Hz.
    false_alarm, window_s, min_crossings
        ``P_fa`` of the first threshold, the window ``m`` (seconds) and ``r0``.

    Returns
    -------
    int
        Index into ``x`` of the onset: the crossing itself when the window ending there is not
        active, 0 when the run of active windows reaches back to the start of ``x``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.standard_normal(1200)
    >>> x[800:] *= 6  # a step at 800
    >>> abs(double_threshold_onset(x, 1.0, 850, 2000.0) - 800) < 10
    True
    """
    crossing = min(max(crossing, 0), len(x) - 1)
    if crossing < 1 or noise_power <= 0:
        return crossing
    squares = np.square(x[: crossing + 1]) / noise_power
    pairs = squares[:-1] + squares[1:]  # test k: samples k and k + 1
    crossed = np.nan_to_num(pairs, nan=0.0) > -2.0 * math.log(false_alarm)
    m = max(1, round(window_s * fs))
    counts = np.convolve(crossed.astype(np.int64), np.ones(m, dtype=np.int64))[: len(crossed)]
    active = counts >= min_crossings  # window ending at test k (tests k - m + 1 .. k)
    last = len(active) - 1
    if not active[last]:
        return crossing
    quiet = np.flatnonzero(~active)
    first_active = int(quiet[-1]) + 1 if len(quiet) else 0
    # the first crossing inside the first active window of the run
    window_start = max(first_active - m + 1, 0)
    found = np.flatnonzero(crossed[window_start : first_active + 1])
    return window_start + int(found[0]) if len(found) else first_active
