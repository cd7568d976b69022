"""Onset time from a model of the rising edge: where the muscle's power starts to rise.

A threshold (held for a while) decides that a burst exists; it says little about when the burst
began. A muscle that recruits slowly crosses any level late, and by an amount that grows with
its ramp, so two muscles that ramp at different speeds get a biased lead. Here the onset is the
start of a fitted rising edge instead.

The band-passed sEMG is modelled as zero-mean noise whose power is the rest power ``s2``
before the onset ``tau`` and ``s2 + c * h((t - tau) / D)^2`` after it (Hogan & Mann 1980),
with the amplitude shape ``h`` a step or a straight line reaching its plateau after ``D``. The
mean squares of short bins are Gamma distributed around the model, so ``(tau, D, c)`` are
fitted by maximum likelihood (a grid over ``tau`` and ``D``; ``c`` by least squares and one
Newton step), first on 4 ms bins, then ``tau`` alone sample by sample around the best. Lost
samples (NaN) weigh nothing; an onset that falls in a run of them is put at its middle.

Only the straight line is fitted: concave (``sqrt``) and convex (``u^1.5``) rises were tried
as well on the ``spectral`` family (step, linear, sigmoid and exponential onsets) and made
the onsets of every shape later or more scattered at 5-10 dB; the first per cents of a convex
(sigmoid) start are below any noise, so that shape stays late by about a quarter of its ramp.

Unlike a variance CUSUM, which places the change where the power has risen by a set ratio (late
by a fraction of the ramp), the fitted edge extrapolates the rise back to where it left the
noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class EdgeFit(NamedTuple):
    """A fitted rising edge: where it starts (index) and how long it takes (seconds)."""

    onset: int
    ramp_s: float


#: ramp durations tried, seconds (0: a step)
RAMP_DURATIONS_S = (0.015, 0.03, 0.06, 0.1, 0.15, 0.22, 0.3)
#: amplitude shapes tried: exponent of a power-law rise (1: a straight line)
RISE_EXPONENTS = (1.0,)
#: coarse bin width, seconds
COARSE_BIN_S = 0.004


def _best_edge(
    power: FloatArray,
    weight: FloatArray,
    centres: FloatArray,
    onsets: FloatArray,
    shapes: list[tuple[float, float]],
) -> tuple[float, float, tuple[float, float]]:
    """Maximum-likelihood edge over a grid.

    Parameters
    ----------
    power
        Mean square of each bin in units of the rest power (NaN-free).
    weight
        Samples that count in each bin (0 for a bin of lost samples).
    centres
        Centre of each bin (samples).
    onsets
        Candidate onsets (samples).
    shapes
        ``(duration, exponent)`` pairs; duration 0 is a step.

    Returns
    -------
    log_likelihood, onset, shape
        Of the best fit.
    """
    best = (-np.inf, float(onsets[0]), shapes[0])
    since = centres[None, :] - onsets[:, None]
    for duration, exponent in shapes:
        if duration <= 0:
            g2 = (since >= 0).astype(np.float64)
        else:
            g2 = np.clip(since / duration, 0.0, 1.0) ** (2 * exponent)
        g2 *= weight
        excess = power - 1.0
        g4 = (g2 * g2).sum(axis=1)
        scale = np.maximum((g2 * excess).sum(axis=1) / np.maximum(g4, 1e-12), 1e-6)
        model = 1.0 + scale[:, None] * g2
        # one Newton step of the Gamma log-likelihood in the scale
        gradient = (g2 * (power - model) / model**2).sum(axis=1)
        curvature = -(g2 * g2 * (2 * power - model) / model**3).sum(axis=1)
        scale = np.maximum(scale - gradient / np.minimum(curvature, -1e-12), 1e-6)
        model = 1.0 + scale[:, None] * g2
        log_likelihood = -(weight * (np.log(model) + power / model)).sum(axis=1)
        j = int(np.argmax(log_likelihood))
        if log_likelihood[j] > best[0]:
            best = (float(log_likelihood[j]), float(onsets[j]), (duration, exponent))
    return best


def rising_edge_onset(x: FloatArray, noise_power: float, crossing: int, fs: float) -> int:
    """Onset of the burst whose rise ends ``x`` (see :func:`fit_rising_edge`)."""
    return fit_rising_edge(x, noise_power, crossing, fs).onset


def fit_rising_edge(x: FloatArray, noise_power: float, crossing: int, fs: float) -> EdgeFit:
    """Fit the rising edge of the burst whose rise ends ``x``.

    Parameters
    ----------
    x
        Band-passed signal from the earliest sample the onset may be at to the moment the
        burst was confirmed (its threshold held), 1-D; NaN where samples were lost.
    noise_power
        Mean square of the signal at rest.
    crossing
        Index into ``x`` of the detection threshold's crossing; the onset is not after it.
    fs
        Sample rate, Hz.

    Returns
    -------
    EdgeFit
        Index into ``x`` of the onset (0 when the rise began before ``x``) and the fitted
        ramp's duration (0 for a step).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(1000)
    >>> amplitude = 1 + 9 * np.clip((t - 600) / 100, 0, 1)  # a 50 ms ramp at 600
    >>> x = rng.standard_normal(1000) * amplitude
    >>> abs(fit_rising_edge(x, 1.0, 700, 2000.0).onset - 600) < 10
    True
    """
    crossing = min(max(crossing, 0), len(x) - 1)
    if len(x) < 2 or noise_power <= 0:
        return EdgeFit(0, 0.0)
    squares = x * x / noise_power
    lost = np.isnan(squares)
    squares[lost] = 0.0
    counts = (~lost).astype(np.float64)

    width = max(1, round(COARSE_BIN_S * fs))
    n_bins = len(x) // width
    if n_bins < 2:
        return EdgeFit(0, 0.0)
    first = len(x) - n_bins * width  # bins end with the segment
    count = counts[first:].reshape(n_bins, width).sum(axis=1)
    total = squares[first:].reshape(n_bins, width).sum(axis=1)
    power = np.where(count > 0, total / np.maximum(count, 1.0), 1.0)
    centres: FloatArray = first + (np.arange(n_bins, dtype=np.float64) + 0.5) * width
    onsets = first + np.arange(0, (crossing - first) // width + 1, dtype=np.float64) * width
    shapes = [(0.0, 1.0)] + [
        (duration * fs, exponent) for duration in RAMP_DURATIONS_S for exponent in RISE_EXPONENTS
    ]
    _, coarse, shape = _best_edge(power, count / width, centres, onsets, shapes)
    # sample by sample around the coarse onset, with the coarse shape
    lo, hi = max(0, int(coarse) - 2 * width), min(crossing, int(coarse) + 2 * width)
    if hi <= lo:
        return EdgeFit(max(lo, 0), shape[0] / fs)
    samples = np.arange(len(x), dtype=np.float64) + 0.5
    fine = np.arange(lo, hi + 1, dtype=np.float64)
    _, onset, _ = _best_edge(np.where(lost, 1.0, squares), counts, samples, fine, [shape])
    return EdgeFit(_inside_gap(int(onset), lost), shape[0] / fs)


def _inside_gap(onset: int, lost: npt.NDArray[np.bool_]) -> int:
    """An onset at the edge of (or in) a run of lost samples could be anywhere in it, and
    the fit favours no place there: it is put at the run's middle."""
    if not lost.any():
        return onset
    at = min(onset, len(lost) - 1)
    if not lost[at] and not (at > 0 and lost[at - 1]):
        return onset
    start = at if lost[at] else at - 1
    while start > 0 and lost[start - 1]:
        start -= 1
    stop = at
    while stop < len(lost) and lost[stop]:
        stop += 1
    return (start + stop) // 2
