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

:func:`posterior_edge_onset` does not pick one ramp: it averages over the rise's shape and
duration (Bayesian model averaging, in the spirit of Tenan et al.'s 2017 Bayesian changepoint
onset) and gives the posterior median of ``tau``. The shapes are a step and, over 15-300 ms,
a straight line, a raised cosine (an S-shaped rise that leaves the noise slowly) and an
exponential approach (a rise that is fastest at its start), all with equal prior weight. A
single best ramp trades a later start for a faster ramp freely at low SNR; the posterior
spreads over the starts the data allow, and its median is less often thrown far out.
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


#: ramp durations of the straight rises fitted (besides a step), seconds
RAMP_DURATIONS_S = (0.015, 0.03, 0.06, 0.1, 0.15, 0.22, 0.3)
#: coarse bin width, seconds
COARSE_BIN_S = 0.004
#: rise shapes the posterior averages over (besides a step), as functions of the fraction
#: ``u`` of the ramp gone by: amplitude from 0 at ``u = 0`` to 1 at ``u = 1``
POSTERIOR_SHAPES = ("linear", "cosine", "exponential")
#: ramp durations the posterior averages over, seconds
POSTERIOR_RAMPS_S = RAMP_DURATIONS_S
#: the band-passed sEMG's correlation time, seconds: a bin's mean square has about
#: ``bin / CORRELATION_S`` independent samples' worth of information (chosen on the
#: ``spectral`` simulator family, 1.5 and 3 ms tried)
CORRELATION_S = 0.003


def rise_squared(shape: str, u: FloatArray) -> FloatArray:
    """Squared amplitude of a rise.

    Parameters
    ----------
    shape
        ``linear``, ``cosine`` or ``exponential`` (:data:`POSTERIOR_SHAPES`).
    u
        Fractions of the ramp gone by (clipped to 0..1).

    Returns
    -------
    ndarray
        The squared amplitude, 0 at ``u = 0`` and 1 at ``u = 1``.
    """
    u = np.clip(u, 0.0, 1.0)
    if shape == "linear":
        rise = u
    elif shape == "cosine":
        rise = 0.5 * (1.0 - np.cos(np.pi * u))
    elif shape == "exponential":
        rise = (1.0 - np.exp(-3.0 * u)) / (1.0 - np.exp(-3.0))
    else:
        raise ValueError(f"unknown rise shape {shape!r}")
    out: FloatArray = rise * rise
    return out


def _best_edge(
    power: FloatArray,
    weight: FloatArray,
    spacing: int,
    first: int,
    count: int,
    models: list[tuple[str, float]],
) -> tuple[int, tuple[str, float]]:
    """Maximum-likelihood edge over a grid (arguments as for :func:`_model_log_likelihoods`).

    Returns
    -------
    onset, model
        Column of the best fit's onset and its model (the first model, then the first
        onset, among equals).
    """
    log_likelihoods = _model_log_likelihoods(power, weight, spacing, first, count, models)
    k, j = np.unravel_index(int(np.argmax(log_likelihoods)), log_likelihoods.shape)
    return first + int(j), models[k]


class _Bins(NamedTuple):
    """A segment's squares in units of the rest power, in bins that end with the segment."""

    power: FloatArray
    weight: FloatArray
    first: int
    width: int
    squares: FloatArray
    counts: FloatArray
    lost: npt.NDArray[np.bool_]


def _bins(x: FloatArray, noise_power: float, fs: float) -> _Bins | None:
    """Bin ``x`` (None when it is too short or the rest power unknown)."""
    if len(x) < 2 or noise_power <= 0:
        return None
    squares = x * x / noise_power
    lost = np.isnan(squares)
    squares[lost] = 0.0
    counts = (~lost).astype(np.float64)
    width = max(1, round(COARSE_BIN_S * fs))
    n_bins = len(x) // width
    if n_bins < 2:
        return None
    first = len(x) - n_bins * width  # bins end with the segment
    count = counts[first:].reshape(n_bins, width).sum(axis=1)
    total = squares[first:].reshape(n_bins, width).sum(axis=1)
    power = np.where(count > 0, total / np.maximum(count, 1.0), 1.0)
    return _Bins(power, count / width, first, width, squares, counts, lost)


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
        Index into ``x`` of the latest sample the onset may be at (the detection threshold's
        crossing, or the confirmation once crosstalk has been taken out).
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
    >>> abs(fit_rising_edge(x, 1.0, 700, 2000.0).onset - 600) < 20  # 2 kHz: within 10 ms
    True
    """
    bins = _bins(x, noise_power, fs)
    if bins is None:
        return EdgeFit(0, 0.0)
    crossing = min(max(crossing, 0), len(x) - 1)
    first, width = bins.first, bins.width
    models = [("step", 0.0)] + [("linear", duration * fs) for duration in RAMP_DURATIONS_S]
    count = (crossing - first) // width + 1
    column, model = _best_edge(bins.power, bins.weight, width, 0, count, models)
    coarse = first + column * width
    # sample by sample around the coarse onset, with the coarse model
    lo, hi = max(0, coarse - 2 * width), min(crossing, coarse + 2 * width)
    if hi <= lo:
        return EdgeFit(max(lo, 0), model[1] / fs)
    squares = np.where(bins.lost, 1.0, bins.squares)
    onset, _ = _best_edge(squares, bins.counts, 1, lo, hi - lo + 1, [model])
    return EdgeFit(inside_gap(onset, bins.lost), model[1] / fs)


def posterior_edge_onset(x: FloatArray, noise_power: float, crossing: int, fs: float) -> EdgeFit:
    """The posterior median start of the rising edge that ends ``x``, over rise shapes and
    ramps.

    The model of :func:`fit_rising_edge` with a step or any of :data:`POSTERIOR_SHAPES` over
    any of :data:`POSTERIOR_RAMPS_S`, each equally likely a priori, and the onset uniform
    up to the crossing; the amplitude is profiled out. The likelihood of each bin counts
    ``COARSE_BIN_S / CORRELATION_S`` independent samples. The median is found on the bins,
    then again sample by sample within two bins of it (each sample counting
    ``1 / (fs * CORRELATION_S)``), so that a burst that began inside a bin is not taken for a
    ramp that began bins earlier.

    Parameters
    ----------
    x, noise_power, crossing, fs
        As for :func:`fit_rising_edge`.

    Returns
    -------
    EdgeFit
        Index into ``x`` of the posterior median onset, and the ramp of the most likely
        single edge (0 for a step).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(1000)
    >>> u = np.clip((t - 600) / 200, 0, 1)  # an S-shaped 100 ms rise at 600
    >>> x = rng.standard_normal(1000) * (1 + 9 * 0.5 * (1 - np.cos(np.pi * u)))
    >>> abs(posterior_edge_onset(x, 1.0, 750, 2000.0).onset - 600) < 20
    True
    """
    bins = _bins(x, noise_power, fs)
    if bins is None:
        return EdgeFit(0, 0.0)
    crossing, width = min(max(crossing, 0), len(x) - 1), bins.width
    # candidates up to the first one at or after the crossing (the onset is clipped to it
    # later): the posterior is not cut off inside the bin where the burst began
    steps = -(-(crossing - bins.first) // width)
    onsets = bins.first + np.arange(0, steps + 1, dtype=np.float64) * width
    models = [("step", 0.0)] + [(s, r * fs) for s in POSTERIOR_SHAPES for r in POSTERIOR_RAMPS_S]
    coarse = _model_log_likelihoods(bins.power, bins.weight, width, 0, len(onsets), models)
    coarse *= COARSE_BIN_S / CORRELATION_S
    middle = _posterior_median(coarse, onsets)
    # sample by sample around it: a burst that began inside a bin is not mistaken for a ramp
    lo, hi = max(0, int(middle) - 2 * width), min(crossing, int(middle) + 2 * width)
    if hi <= lo:
        onset = float(lo)
    else:
        fine = np.arange(lo, hi + 1, dtype=np.float64)
        squares = np.where(bins.lost, 1.0, bins.squares)[lo:]
        detail = _model_log_likelihoods(squares, bins.counts[lo:], 1, 0, len(fine), models)
        onset = _posterior_median(detail / (fs * CORRELATION_S), fine)
    best = int(np.argmax(coarse.max(axis=1)))
    index = round(min(max(onset, 0.0), float(crossing)))
    return EdgeFit(inside_gap(index, bins.lost), models[best][1] / fs)


def _model_log_likelihoods(
    power: FloatArray,
    weight: FloatArray,
    spacing: int,
    first: int,
    count: int,
    models: list[tuple[str, float]],
) -> FloatArray:
    """Gamma log-likelihood of every model (rows) at every candidate onset (columns), the
    amplitude of each profiled out.

    The power of column ``i`` is modelled as ``1 + c * g((t_i - tau) / D)^2`` (rest power 1),
    ``t_i`` its centre; ``c`` is fitted by least squares and one Newton step of the
    likelihood. Before a candidate's onset and once its ramp is over the model is constant,
    so those columns enter through cumulative sums and only the ramp's columns are computed
    one by one.

    Parameters
    ----------
    power
        Mean square of each column (a bin or a sample) in units of the rest power
        (NaN-free).
    weight
        Samples that count in each column, as a fraction of a full one (0 for lost samples):
        a partly lost bin's mean square estimates the same power with less information.
    spacing
        Width of a column, samples.
    first, count
        The candidates: ``count`` onsets at the starts of columns ``first``,
        ``first + 1``, ... (the last may be one past the end).
    models
        ``(shape, ramp in samples)`` pairs: a shape of :func:`rise_squared`, or a ramp of 0
        for a step.

    Returns
    -------
    ndarray
        ``(len(models), count)`` log-likelihoods, a column of full weight counting 1.
    """
    n = len(power)
    weighted = weight * power
    total_weight = np.concatenate(([0.0], np.cumsum(weight)))
    total_weighted = np.concatenate(([0.0], np.cumsum(weighted)))
    starts = first + np.arange(count)
    longest = max(0, int(np.ceil(max(ramp for _, ramp in models) / spacing - 0.5)))
    # past the end: columns that weigh nothing
    padded_power = np.concatenate((power, np.ones(longest + 1)))
    padded_weight = np.concatenate((weight, np.zeros(longest + 1)))
    before = total_weighted[np.minimum(starts, n)]  # -log-likelihood of the rest before each
    out = np.empty((len(models), count))
    ramps = sorted({ramp for _, ramp in models})
    for ramp in ramps:  # the shapes of one ramp together: they share their columns
        rows = [k for k, (_, r) in enumerate(models) if r == ramp]
        band = max(0, int(np.ceil(ramp / spacing - 0.5))) if ramp > 0 else 0
        offsets = np.arange(band, dtype=np.float64)
        if band:
            g2 = np.array(
                [rise_squared(models[k][0], (offsets + 0.5) * spacing / ramp) for k in rows]
            )[:, None, :]  # (shape, candidate, column of the ramp)
        else:
            g2 = np.zeros((len(rows), 1, 0))
        columns = starts[:, None] + np.arange(band)[None, :]
        p, w = padded_power[columns], padded_weight[columns]
        # the plateau after the ramp: the model is 1 + c there
        end = np.minimum(starts + band, n)
        plateau_weight = total_weight[n] - total_weight[end]
        plateau_weighted = total_weighted[n] - total_weighted[end]
        out[rows] = profiled_log_likelihood(p, w, g2, plateau_weight, plateau_weighted) - before
    return out


def profiled_log_likelihood(
    power: FloatArray,
    weight: FloatArray,
    g2: FloatArray,
    plateau_weight: FloatArray,
    plateau_weighted: FloatArray,
) -> FloatArray:
    """Gamma log-likelihood of rising edges from their onset on, the amplitude of each
    profiled out (least squares, then one Newton step).

    The power of a ramp's column is modelled as ``1 + c * g2`` (rest power 1), of the plateau
    after it as ``1 + c``.

    Parameters
    ----------
    power
        Mean square of each column of each ramp, last axis along the ramp (NaN-free).
    weight
        How much each column counts (0 for lost samples), same shape.
    g2
        Squared amplitude of the rise at each column, broadcast against ``power``.
    plateau_weight, plateau_weighted
        How much the plateau counts, and that times its mean square; ``power``'s shape
        without its last axis.

    Returns
    -------
    ndarray
        The log-likelihoods, ``power``'s shape without its last axis (the rest before the
        onset left out).
    """
    wg2 = weight * g2
    g4 = (wg2 * g2).sum(axis=-1) + plateau_weight
    excess = (wg2 * (power - 1.0)).sum(axis=-1) + plateau_weighted - plateau_weight
    scale = np.maximum(excess / np.maximum(g4, 1e-12), 1e-6)
    # one Newton step of the Gamma log-likelihood in the scale
    inverse = 1.0 / (1.0 + scale[..., None] * g2)
    level = 1.0 + scale
    wg2_p = wg2 * inverse * inverse  # weight * g2 / model**2
    gradient = (wg2_p * (power - 1.0 / inverse)).sum(axis=-1) + (
        plateau_weighted - level * plateau_weight
    ) / level**2
    curvature = (
        -(wg2_p * g2 * (2 * power * inverse - 1.0)).sum(axis=-1)
        - (2 * plateau_weighted - level * plateau_weight) / level**3
    )
    scale = np.maximum(scale - gradient / np.minimum(curvature, -1e-12), 1e-6)
    model = 1.0 + scale[..., None] * g2
    level = 1.0 + scale
    out: FloatArray = -(
        (weight * (np.log(model) + power / model)).sum(axis=-1)
        + plateau_weight * np.log(level)
        + plateau_weighted / level
    )
    return out


def _posterior_median(log_likelihoods: FloatArray, onsets: FloatArray) -> float:
    """Median onset of the posterior summed over the models (rows), each candidate's mass
    spread evenly over its spacing."""
    posterior = np.exp(log_likelihoods - log_likelihoods.max()).sum(axis=0)
    cumulative = np.cumsum(posterior / posterior.sum())
    step = float(onsets[1] - onsets[0]) if len(onsets) > 1 else 1.0
    return interpolated_median(cumulative, float(onsets[0]), step)


def interpolated_median(cumulative: FloatArray, first: float, step: float) -> float:
    """Median of candidates ``step`` apart from ``first``, each one's mass spread evenly over
    its step.

    Parameters
    ----------
    cumulative
        The candidates' cumulative mass, normalised to end at 1.
    first, step
        The first candidate and the spacing.

    Returns
    -------
    float
        Where half the mass lies before.
    """
    j = min(int(np.searchsorted(cumulative, 0.5)), len(cumulative) - 1)
    before = float(cumulative[j - 1]) if j > 0 else 0.0
    share = (0.5 - before) / max(float(cumulative[j]) - before, 1e-12)
    return float(first + step * j + (share - 0.5) * step)


def inside_gap(onset: int, lost: npt.NDArray[np.bool_]) -> int:
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
