"""The rising-edge onset estimator against known onsets of shaped-noise bursts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from noisy_ramp import threshold_crossing

from emg.dsp.edge_onset import posterior_edge_onset, rising_edge_onset

FS = 2000.0


def _burst(
    rng: np.random.Generator,
    ramp_s: float,
    snr_db: float,
    onset: int,
    n: int,
    shape: str = "linear",
) -> np.ndarray:
    """White noise of unit power, plus a rise of amplitude from ``onset``: a straight line,
    or a logistic S (slope 8 over the ramp, from 0), which leaves the noise slowly."""
    t = (np.arange(n) - onset) / FS
    amplitude = np.clip(t / ramp_s, 0, 1) if ramp_s > 0 else (t >= 0).astype(float)
    if shape == "logistic":

        def logistic(u: np.ndarray | float) -> np.ndarray:
            return np.asarray(1 / (1 + np.exp(-8 * (np.asarray(u) - 0.5))))

        amplitude = np.where(
            t >= 0, (logistic(amplitude) - logistic(0)) / (logistic(1) - logistic(0)), 0.0
        )
    signal = 10 ** (snr_db / 20) * amplitude * rng.standard_normal(n)
    out: np.ndarray = signal + rng.standard_normal(n)
    return out


def _posterior(x: np.ndarray, noise_power: float, crossing: int, fs: float) -> int:
    return posterior_edge_onset(x, noise_power, crossing, fs).onset


#: the onset estimators, by the name of the refinement that uses each
ESTIMATORS: dict[str, Callable[[np.ndarray, float, int, float], int]] = {
    "edge": rising_edge_onset,
    "bayes": _posterior,
}


def test_slow_and_fast_ramps_give_the_same_onset_where_a_threshold_does_not() -> None:
    rng = np.random.default_rng(3)
    onset, n = 1200, 2400
    edge = {0.03: [], 0.22: []}
    threshold = {0.03: [], 0.22: []}
    for ramp in edge:
        for _ in range(30):
            x = _burst(rng, ramp, 20, onset, n)
            crossing = threshold_crossing(x, onset)
            lo = crossing - 800
            found = lo + rising_edge_onset(x[lo : crossing + 201], 1.0, crossing - lo, FS)
            edge[ramp].append(found - onset)
            threshold[ramp].append(crossing - onset)
    edge_bias_ms = (np.median(edge[0.22]) - np.median(edge[0.03])) / FS * 1000
    threshold_bias_ms = (np.median(threshold[0.22]) - np.median(threshold[0.03])) / FS * 1000
    assert threshold_bias_ms > 20  # a level is crossed later on a slow ramp ...
    assert abs(edge_bias_ms) < 10  # ... the start of the fitted edge is not


@pytest.mark.parametrize("method", ["edge", "bayes"])
def test_lost_samples_weigh_nothing_and_the_onset_is_never_after_the_crossing(
    method: str,
) -> None:
    estimator = ESTIMATORS[method]
    rng = np.random.default_rng(11)
    onset, n = 1200, 2400
    x = _burst(rng, 0.05, 20, onset, n)
    crossing = threshold_crossing(x, onset)
    clean = estimator(x[: crossing + 201], 1.0, crossing, FS)
    gappy = x[: crossing + 201].copy()
    gappy[700:720] = np.nan  # a lost packet at rest, long before the onset
    assert estimator(gappy, 1.0, crossing, FS) == clean
    assert abs(clean - onset) < 20
    # the onset is searched for up to the crossing only
    assert estimator(x[: crossing + 201], 1.0, onset - 100, FS) <= onset - 100


@pytest.mark.parametrize("method", ["edge", "bayes"])
def test_degenerate_segments(method: str) -> None:
    assert ESTIMATORS[method](np.zeros(1), 1.0, 0, FS) == 0
    assert ESTIMATORS[method](np.ones(100), 0.0, 50, FS) == 0


def _errors_ms(
    estimator: Callable[[np.ndarray, float, int, float], int],
    ramp_s: float,
    snr_db: float,
    shape: str,
    seed: int,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    onset, n = 1200, 2400
    errors = []
    for _ in range(30):
        x = _burst(rng, ramp_s, snr_db, onset, n, shape)
        crossing = threshold_crossing(x, onset)
        lo = crossing - 800  # the refinement's 400 ms; the segment ends 100 ms after crossing
        found = lo + estimator(x[lo : crossing + 201], 1.0, crossing - lo, FS)
        errors.append((found - onset) / FS * 1000)
    return np.array(errors)


#: (ramp, SNR, bound on the median error, bound on the median absolute deviation), per
#: estimator
LINEAR_RAMP_BOUNDS = {
    "edge": [
        (0.0, 20, 2, 3),
        (0.04, 20, 4, 5),
        (0.2, 20, 8, 10),
        (0.2, 10, 15, 20),
        (0.04, 5, 12, 15),
    ],
    "bayes": [
        (0.0, 20, 3, 2),
        (0.04, 20, 3, 4),
        (0.2, 20, 6, 5),
        (0.2, 10, 8, 15),
        (0.04, 5, 8, 12),
    ],
}


@pytest.mark.parametrize(
    ("method", "ramp_s", "snr_db", "median_ms", "spread_ms"),
    [(method, *bounds) for method, cases in LINEAR_RAMP_BOUNDS.items() for bounds in cases],
)
def test_onset_of_linear_ramps_is_neither_late_nor_early(
    method: str, ramp_s: float, snr_db: float, median_ms: float, spread_ms: float
) -> None:
    errors = _errors_ms(ESTIMATORS[method], ramp_s, snr_db, "linear", 7)
    assert abs(np.median(errors)) <= median_ms
    assert np.median(np.abs(errors - np.median(errors))) <= spread_ms


def test_posterior_onset_of_an_s_shaped_rise_is_less_late_than_the_best_single_edge() -> None:
    # a logistic rise over 200 ms at 20 dB: its first tens of ms are below the noise; a
    # straight edge fitted to what shows is late by a quarter of the ramp, the posterior
    # over shapes by less (a shape the estimator does not have: it knows a raised cosine)
    single = _errors_ms(rising_edge_onset, 0.2, 20, "logistic", 5)
    posterior = _errors_ms(_posterior, 0.2, 20, "logistic", 5)
    assert np.median(single) > 30
    assert np.median(posterior) < np.median(single) - 10
