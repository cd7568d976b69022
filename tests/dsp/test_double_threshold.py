"""Bonato's double threshold as an onset refinement, against known onsets."""

from __future__ import annotations

import numpy as np
from noisy_ramp import noisy_ramp

from emg.dsp.double_threshold import double_threshold_onset

FS = 2000.0


def _burst(rng: np.random.Generator, ramp_s: float, snr_db: float, onset: int) -> np.ndarray:
    """Unit white noise plus an amplitude ramp from ``onset`` (a step when ``ramp_s`` is 0)."""
    return noisy_ramp(rng, ramp_s, snr_db, onset, FS)


def test_a_step_is_found_within_a_few_ms_and_a_slow_ramp_late() -> None:
    rng = np.random.default_rng(4)
    steps = [double_threshold_onset(_burst(rng, 0.0, 20, 2000), 1.0, 2100, FS) for _ in range(40)]
    ramps = [double_threshold_onset(_burst(rng, 0.2, 20, 2000), 1.0, 2300, FS) for _ in range(40)]
    # at rest a test crosses 5 % of the time, so a run of active windows seldom reaches far
    # back into the noise before a step
    assert (
        abs(np.median(steps) - 2000) <= 4
        and np.percentile(np.abs(np.subtract(steps, 2000)), 90) < 20
    )
    # a straight ramp over 200 ms at 20 dB: its first tens of ms are below the noise
    assert 10 < (np.median(ramps) - 2000) / FS * 1000 < 60


def test_the_onset_is_never_after_the_crossing_and_lost_samples_never_cross() -> None:
    rng = np.random.default_rng(5)
    x = _burst(rng, 0.0, 20, 2000)
    assert double_threshold_onset(x, 1.0, 1500, FS) <= 1500  # a crossing in the noise
    quiet = np.full(3000, 0.01)
    assert double_threshold_onset(quiet, 1.0, 2500, FS) == 2500  # nothing active: the crossing
    gap = x.copy()
    gap[1990:2010] = np.nan  # lost over the onset: the run starts after the gap
    found = double_threshold_onset(gap, 1.0, 2100, FS)
    assert 2010 <= found < 2020
    assert double_threshold_onset(x, 0.0, 2100, FS) == 2100  # no noise power: no placement
    assert double_threshold_onset(x[:1], 1.0, 5, FS) == 0
