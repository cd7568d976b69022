"""What is measured of one rep, each function on known numbers."""

from __future__ import annotations

import numpy as np
import pytest

from emg.analysis.lead import LeadEstimate
from emg.analysis.rep_history import History, RestSpectrum
from emg.analysis.rep_measures import (
    burst_median_frequency,
    decide_order,
    level_before,
    rep_levels,
)


@pytest.mark.parametrize(
    ("estimate", "carried", "hamstring_on", "expected"),
    [
        (LeadEstimate(80.0, 5.0), (), True, ("glute-first", 80.0, 55.0)),
        (LeadEstimate(-60.0, 5.0), (), True, ("hamstring-first", -60.0, 55.0)),
        # beyond the exercise margin but within its uncertainty: not called
        (LeadEstimate(-52.0, 5.0), (), True, ("simultaneous", -52.0, 55.0)),
        (None, ("glute",), True, ("glute-first", None, None)),
        (None, ("hamstring",), False, ("hamstring-first", None, None)),
        (None, (), True, ("hamstring-first", None, None)),  # only the hamstrings switched on
        (None, (), False, ("glute-first", None, None)),  # only the glutes
    ],
)
def test_decide_order(
    estimate: LeadEstimate | None,
    carried: tuple[str, ...],
    hamstring_on: bool,
    expected: tuple[str, float | None, float | None],
) -> None:
    assert tuple(decide_order(estimate, carried, hamstring_on, 50.0)) == expected


def test_rep_levels_ratio_and_share() -> None:
    envelope = np.column_stack([np.full(100, 30.0), np.full(100, 20.0)])
    levels = rep_levels(envelope, (60.0, 40.0))  # both at 50 % of their reference
    assert levels == (0.5, 0.5, 1.0, 0.5)
    silent = rep_levels(np.zeros((10, 2)), (1.0, 1.0))
    assert (silent.ratio, silent.hamstring_share) == (None, None)
    unknown = rep_levels(envelope, (0.0, 40.0))
    assert np.isnan(unknown.glute) and unknown.hamstring == 0.5


def test_burst_median_frequency_of_a_tone_and_of_nothing() -> None:
    fs = 2000.0
    t = np.arange(4000) / fs
    rng = np.random.default_rng(1)
    tone = (np.sin(2 * np.pi * 120 * t) + 0.01 * rng.standard_normal(4000))[:, None]
    mdf, error = burst_median_frequency(np.ascontiguousarray(tone), fs, None)
    assert mdf == pytest.approx(120.0, abs=2.0) and error is not None and error < 5.0
    assert burst_median_frequency(np.zeros((10, 1)), fs, None) == (None, None)


def test_level_before() -> None:
    envelope = np.full(50, 6.0)
    assert level_before(envelope, 4.0, 0.5, 3.0, 3.0) == (2.0, True)  # 6 > 4 + 3 x 0.5
    assert level_before(envelope, 4.0, 1.0, 0.0, 3.0) == (None, False)


def test_history_slices_across_chunks_and_forgets() -> None:
    history = History(2)
    for start in range(0, 30, 10):
        history.append(start, np.column_stack([np.arange(start, start + 10)] * 2).astype(float))
    np.testing.assert_array_equal(history.slice(5, 25)[:, 0], np.arange(5, 25))
    history.trim(12)  # the first chunk ends before 12
    np.testing.assert_array_equal(history.slice(0, 15)[:, 1], np.arange(10, 15))
    assert history.slice(40, 50).shape == (0, 2)


def test_rest_spectrum_weighs_by_segments_and_forgets() -> None:
    rest = RestSpectrum(memory=4)
    rest.add(np.array([1.0]), 2)
    rest.add(np.array([4.0]), 1)  # weights 2 : 1
    assert rest.power is not None and rest.power[0] == pytest.approx(2.0)
    rest.add(np.array([10.0]), 4)  # memory full: the new stretch weighs 4 of 7
    assert rest.power[0] == pytest.approx(2.0 + 4 / 7 * 8.0)
