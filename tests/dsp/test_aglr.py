"""Staude's AGLR-step as an onset refinement, against known onsets."""

from __future__ import annotations

import numpy as np
from noisy_ramp import noisy_ramp

from emg.dsp.aglr import aglr_step_onset
from emg.dsp.onset import cusum_change_point

FS = 2000.0


def _burst(rng: np.random.Generator, ramp_s: float, snr_db: float, onset: int) -> np.ndarray:
    """Unit white noise plus an amplitude ramp from ``onset`` (a step when ``ramp_s`` is 0)."""
    return noisy_ramp(rng, ramp_s, snr_db, onset, FS)


def _window(x: np.ndarray, confirmation: int = 2200) -> np.ndarray:
    """The samples an onset confirmed at ``confirmation`` is placed from."""
    return x[: confirmation + 1]


def test_a_step_is_found_within_a_few_samples_at_any_snr() -> None:
    # without noise the step's first sample, wherever the window ends after it
    step = np.r_[np.ones(800), 6 * np.ones(400)]
    assert aglr_step_onset(step[:851], 1.0, 850) == aglr_step_onset(step, 1.0, 1199) == 800
    rng = np.random.default_rng(4)
    for snr_db, p90_limit in ((20, 3), (10, 6), (5, 12)):
        found = [
            aglr_step_onset(_window(_burst(rng, 0.0, snr_db, 2000)), 1.0, 2100) for _ in range(60)
        ]
        errors = np.subtract(found, 2000)
        assert np.median(errors) == 0, snr_db
        assert np.percentile(np.abs(errors), 90) <= p90_limit, snr_db


def test_a_slow_ramp_is_placed_late_as_by_the_variance_cusum() -> None:
    # a straight 200 ms ramp at 20 dB: a variance step fitted to it starts where the power has
    # risen well above rest, tens of ms into the ramp, about where the chain's CUSUM (tuned to
    # a variance ratio of 4) puts it
    rng = np.random.default_rng(6)
    aglr, cusum = [], []
    for _ in range(40):
        x = _burst(rng, 0.2, 20, 2000)
        aglr.append(aglr_step_onset(_window(x, 2500), 1.0, 2300))
        cusum.append(1700 + cusum_change_point(x[1700:2301], 1.0, rho=4.0))
    late_ms = (np.median(aglr) - 2000) / FS * 1000
    assert 5 < late_ms < 60
    assert abs(np.median(aglr) - np.median(cusum)) / FS * 1000 < 20


def test_the_onset_is_never_after_the_crossing_and_lost_samples_count_for_nothing() -> None:
    rng = np.random.default_rng(5)
    x = _burst(rng, 0.0, 20, 2000)
    # the step fitted up to the confirmation; its start is not after the crossing, and a
    # larger step after the window's end does not pull the onset to it
    assert aglr_step_onset(_window(x), 1.0, 1900) == 1900
    louder = x.copy()
    louder[2300:] *= 20
    assert aglr_step_onset(_window(louder), 1.0, 2100) == aglr_step_onset(_window(x), 1.0, 2100)
    assert abs(aglr_step_onset(_window(louder), 1.0, 2100) - 2000) <= 2
    # a gap over the onset: the step could be anywhere in it, its middle is taken, but not
    # past the crossing when the gap runs on beyond it
    gap = x.copy()
    gap[1990:2030] = np.nan
    assert aglr_step_onset(_window(gap), 1.0, 2100) == 2010
    late = _burst(np.random.default_rng(0), 0.0, 20, 2098)
    late[2090:2161] = np.nan
    assert 2090 <= aglr_step_onset(_window(late), 1.0, 2100) <= 2100
    # most of the step lost: what was received places it as if the lost samples were never
    # there (counted as zeros, they would make the step start after them)
    step = _burst(np.random.default_rng(0), 0.0, 20, 2000)[:2101]
    holes = step.copy()
    holes[2002:2096] = np.nan
    kept = np.delete(step, np.arange(2002, 2096))
    assert aglr_step_onset(holes, 1.0, 2100) == aglr_step_onset(kept, 1.0, 2006) == 2000
    # no rest power, or nothing above rest (a quiet stretch): the onset stays at the crossing
    assert aglr_step_onset(_window(x), 0.0, 2100) == 2100
    assert aglr_step_onset(np.full(1000, 0.1), 1.0, 900) == 900
    assert aglr_step_onset(np.full(100, np.nan), 1.0, 90) == 90
    assert aglr_step_onset(x[:1], 1.0, 5) == 0
    assert aglr_step_onset(x[:0], 1.0, 5) == 0


def test_a_small_rise_long_before_a_weak_step_is_not_taken_for_its_start() -> None:
    # exact powers: rest 1, a stretch at 1.5 times rest, rest, then a step to 3 times rest
    # seen for only 20 samples before the crossing; a step of any size fitted from the
    # stretch's start explains more than the short step does, one of at least twice the rest
    # power cannot start there
    x = np.ones(600)
    x[200:400] = np.sqrt(1.5)
    x[450:470] = np.sqrt(3.0)
    assert aglr_step_onset(x[:470], 1.0, 469, min_ratio=1.0) == 200
    assert aglr_step_onset(x[:470], 1.0, 469) == 450
