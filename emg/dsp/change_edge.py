"""Onset times from the rising edge near the variance change point (the ``cusum-edge``
refinement, the default).

The CUSUM's change point (:func:`~emg.dsp.onset.cusum_change_point`) is where the power has
clearly risen: late by a part of the ramp, but seldom early. A rising edge fitted over the
whole window before the crossing (:mod:`emg.dsp.edge_onset`) removes that lateness, but at low
SNR a slower rise that began well before the change explains the noise about as well as the
true one, and the fit now and then takes it: the posterior edge puts about 5 % of its onsets
more than 20 ms early at 10 dB. Here the onset is the posterior median start of the rising
edge, with the same rise shapes and ramps as :func:`~emg.dsp.edge_onset.posterior_edge_onset`
but a prior on the start that is uniform only from :data:`BEFORE_CHANGE_S` before the change
point up to the crossing: the edge explains where in that stretch the rise began, the change
point bounds how far back it can be believed.

The likelihood is the same Gamma model of the squares around the rest power, with the ramp
cut into :data:`RAMP_SEGMENTS` stretches of equal duration (each with the mean squared
amplitude of its part of the ramp) and the rest and the plateau taken whole, every sum from a
cumulative sum; candidate starts are :data:`~emg.dsp.edge_onset.COARSE_BIN_S` apart, the
median interpolated between them. All onsets a block confirms are computed together, each from
its own sums, so that an onset does not depend on which others share its block.

The candidates' spacing limits an abrupt onset: a step far above the noise is placed up to one
spacing (4 ms) early, since a candidate just before it loses little and one just after it
loses much. A second pass sample by sample around the median removed that (within 1.5 ms) but
doubled the cost, and changed the families' medians by less than 1 ms either way.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from emg.dsp.edge_onset import (
    COARSE_BIN_S,
    CORRELATION_S,
    POSTERIOR_RAMPS_S,
    POSTERIOR_SHAPES,
    inside_gap,
    interpolated_median,
    profiled_log_likelihood,
    rise_squared,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: how far before the change point the onset may be, seconds (chosen on the ``spectral``
#: simulator family among 10-45 ms: the smallest median error at 5 dB and signed median at
#: 10-20 dB there)
BEFORE_CHANGE_S = 0.030
#: stretches a ramp is cut into for its likelihood (with 8 or 16, the onsets' medians on the
#: simulator families were within 1 ms of the same posterior's computed sample by sample; 4
#: put the own family's signed median 2.4 ms later)
RAMP_SEGMENTS = 8


class EdgeSearch(NamedTuple):
    """One onset to place: the filtered signal, and where in it the onset may be.

    Attributes
    ----------
    x
        Filtered signal from (at latest) ``earliest`` to the burst's confirmation; NaN where
        samples were lost.
    noise_power
        Mean square of the signal at rest.
    earliest, crossing
        Indices into ``x``: the onset is searched from ``earliest`` (the change point minus
        :data:`BEFORE_CHANGE_S`) up to ``crossing`` (the threshold's crossing, or the
        confirmation once crosstalk has been taken out).
    """

    x: FloatArray
    noise_power: float
    earliest: int
    crossing: int


@functools.lru_cache(maxsize=8)
def _models(fs: float) -> tuple[FloatArray, IntArray]:
    """The mean squared amplitude of each ramp stretch ``(model, 1, stretch)`` and the
    stretches' bounds in samples after the start ``(model, 1, stretch + 1)``: a step (no
    stretch), then every shape of :data:`~emg.dsp.edge_onset.POSTERIOR_SHAPES` over every
    ramp of :data:`~emg.dsp.edge_onset.POSTERIOR_RAMPS_S`. Worked out once per sample rate
    (read-only): they cost more than a block's onsets do."""
    k = RAMP_SEGMENTS
    # the mean over each stretch from four points inside it
    u = (np.arange(k)[:, None] + (np.arange(4)[None, :] + 0.5) / 4) / k
    squared = [np.zeros(k)] + [
        rise_squared(shape, u).mean(axis=1) for shape in POSTERIOR_SHAPES for _ in POSTERIOR_RAMPS_S
    ]
    ramps = [0.0] + [ramp * fs for _ in POSTERIOR_SHAPES for ramp in POSTERIOR_RAMPS_S]
    bounds = np.rint(np.outer(ramps, np.arange(k + 1) / k)).astype(np.int64)[:, None, :]
    means = np.array(squared)[:, None, :]
    means.flags.writeable = bounds.flags.writeable = False
    return means, bounds


def change_edge_onsets(searches: list[EdgeSearch], fs: float) -> list[int]:
    """The posterior median start of each search's rising edge, within its bounds.

    Parameters
    ----------
    searches
        The onsets to place.
    fs
        Sample rate, Hz.

    Returns
    -------
    list of int
        Index into each search's ``x`` of its onset, ``earliest .. crossing`` (an onset in a
        run of lost samples at the run's middle as far as those bounds allow; the crossing
        when the search has no samples or no rest power).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(1000)
    >>> x = rng.standard_normal(1000) * (1 + 5 * np.clip((t - 600) / 100, 0, 1))
    >>> onset, = change_edge_onsets([EdgeSearch(x, 1.0, 560, 700)], 2000.0)
    >>> abs(onset - 600) < 20  # 2 kHz: within 10 ms
    True
    """
    width = max(1, round(COARSE_BIN_S * fs))
    onsets = [min(max(s.crossing, 0), max(len(s.x) - 1, 0)) for s in searches]
    # a search with no samples or no rest power has nothing to weigh: its crossing
    usable = [i for i, s in enumerate(searches) if len(s.x) > 0 and s.noise_power > 0]
    if not usable:
        return onsets
    with np.errstate(over="ignore", invalid="ignore"):  # overflowing powers: the crossing
        return _placed(searches, usable, onsets, width, fs)


def _placed(
    searches: list[EdgeSearch], usable: list[int], onsets: list[int], width: int, fs: float
) -> list[int]:
    """:func:`change_edge_onsets` of the ``usable`` searches, placed into ``onsets`` (their
    crossings, otherwise)."""
    lengths = np.array([len(searches[i].x) for i in usable], dtype=np.int64)
    crossing = np.array([onsets[i] for i in usable], dtype=np.int64)
    earliest = np.clip([searches[i].earliest for i in usable], 0, crossing)
    # each search's squares in units of its rest power, summed up from 0 (so that a search
    # gives the same onset whichever others it is computed with), one after the other
    lost, total, counted = [], [], []
    for i in usable:
        squares = searches[i].x * searches[i].x / searches[i].noise_power
        missing = np.isnan(squares)
        squares[missing] = 0.0
        lost.append(missing)
        total.append(np.concatenate(([0.0], np.cumsum(squares))))
        counted.append(np.concatenate(([0.0], np.cumsum(~missing))))
    sums = (np.concatenate(total), np.concatenate(counted))
    starts = np.concatenate(([0], np.cumsum(lengths + 1)))[:-1]
    # candidates width apart from the earliest up to the first at or after the crossing
    counts = -(-(crossing - earliest) // width) + 1
    medians = _medians(sums, starts, lengths, earliest, width, counts, fs)
    for k, i in enumerate(usable):
        if np.isnan(medians[k]):
            continue  # the powers overflowed: the crossing
        index = round(min(max(float(medians[k]), float(earliest[k])), float(crossing[k])))
        # an onset among lost samples goes to their middle, but not past the crossing
        index = inside_gap(index, lost[k][: crossing[k] + 1])
        onsets[i] = int(min(max(index, earliest[k]), crossing[k]))
    return onsets


def _medians(
    sums: tuple[FloatArray, FloatArray],
    starts: IntArray,
    lengths: IntArray,
    first: IntArray,
    spacing: int,
    counts: IntArray,
    fs: float,
) -> FloatArray:
    """Posterior median start of each search's rising edge over ``counts[k]`` candidates
    ``spacing`` apart from ``first[k]``, each candidate's mass spread evenly over its spacing
    (NaN where the powers overflowed); ``sums`` and ``starts`` as for
    :func:`_log_likelihoods`."""
    bounds = np.concatenate(([0], np.cumsum(counts)))
    search = np.repeat(np.arange(len(counts)), counts)
    step = np.arange(int(bounds[-1])) - bounds[search]
    candidates = np.minimum(first[search] + spacing * step, lengths[search])
    log_likelihoods = _log_likelihoods(*sums, starts[search], lengths[search], candidates, fs)
    peak = np.maximum.reduceat(log_likelihoods.max(axis=0), bounds[:-1])
    posterior = np.exp(log_likelihoods - peak[search]).sum(axis=0)
    medians = np.full(len(counts), np.nan)
    for k in range(len(counts)):
        cumulative = np.cumsum(posterior[bounds[k] : bounds[k + 1]])
        if not np.isfinite(cumulative[-1]) or cumulative[-1] <= 0:
            continue
        cumulative /= cumulative[-1]
        medians[k] = interpolated_median(cumulative, float(first[k]), float(spacing))
    return medians


def _log_likelihoods(
    total: FloatArray,
    counted: FloatArray,
    offset: IntArray,
    length: IntArray,
    candidates: IntArray,
    fs: float,
) -> FloatArray:
    """Log-likelihood ``(model, candidate)`` of each rise model started at each candidate, its
    amplitude profiled out (:func:`~emg.dsp.edge_onset.profiled_log_likelihood`).

    ``total`` and ``counted`` (``sums``) are the cumulative squares and counted samples of
    each search (from 0, one more than its samples), one after the other; candidate ``j``
    belongs to the search whose sums start at ``offset[j]`` (``starts``) and whose samples
    number ``length[j]``, and is an index into them.
    """
    squared, bounds = _models(fs)
    end = offset + length
    # stretch bounds of every model at every candidate, within the search's samples
    edges = np.minimum(candidates[None, :, None] + bounds, length[None, :, None])
    edges += offset[None, :, None]
    at_total, at_counted = total[edges], counted[edges]
    weight = np.diff(at_counted, axis=2)  # samples in each stretch
    sums = np.diff(at_total, axis=2)  # their squares
    plateau_weight = counted[end][None] - at_counted[..., -1]
    plateau_power = total[end][None] - at_total[..., -1]
    before = (total[offset + candidates] - total[offset])[None]  # the rest: model power 1
    mean = np.divide(sums, weight, out=np.ones_like(sums), where=weight > 0)
    log_likelihood = profiled_log_likelihood(mean, weight, squared, plateau_weight, plateau_power)
    out: FloatArray = (log_likelihood - before) / (fs * CORRELATION_S)
    return out
