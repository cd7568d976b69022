"""The rising edge near the change point (``cusum-edge``) against known onsets of noisy ramps."""

from __future__ import annotations

import numpy as np
from noisy_ramp import noisy_ramp, threshold_crossing

from emg.dsp.change_edge import BEFORE_CHANGE_S, EdgeSearch, change_edge_onsets
from emg.dsp.edge_onset import posterior_edge_onset
from emg.dsp.onset import cusum_change_point

FS = 2000.0
REACH = round(BEFORE_CHANGE_S * FS)


def _search(x: np.ndarray, onset: int, lo: int) -> tuple[EdgeSearch, int, int]:
    """The search the chain makes for the burst at ``onset`` (samples from ``lo`` to the
    confirmation, 100 samples after the crossing), the CUSUM's change and the crossing."""
    crossing = threshold_crossing(x, onset)
    start = crossing - 300  # the CUSUM's 150 ms
    change = start + cusum_change_point(x[start : crossing + 1], 1.0, 4.0)
    search = EdgeSearch(x[lo : crossing + 100], 1.0, change - REACH - lo, crossing - lo)
    return search, change, crossing


def test_onsets_lie_between_the_change_and_the_crossing_and_beat_the_change() -> None:
    rng = np.random.default_rng(11)
    onset = 1600
    errors: dict[str, list[float]] = {"edge": [], "change": []}
    for snr_db, ramp_s in [(20, 0.03), (20, 0.2), (10, 0.04), (10, 0.15)] * 8:
        x = noisy_ramp(rng, ramp_s, snr_db, onset, FS)
        lo = 1200
        search, change, crossing = _search(x, onset, lo)
        (found,) = change_edge_onsets([search], FS)
        assert change - REACH <= lo + found <= crossing
        errors["edge"].append((lo + found - onset) / FS * 1000)
        errors["change"].append((change - onset) / FS * 1000)
    edge, change = np.array(errors["edge"]), np.array(errors["change"])
    # the change point is late by a part of each ramp; the edge near it much less so
    assert np.median(change) > 5
    assert abs(np.median(edge)) < 5
    assert np.median(np.abs(edge)) < np.median(np.abs(change)) - 2
    assert np.mean(edge < -20) <= 0.05


def test_at_low_snr_no_onset_is_put_far_before_the_change_as_the_whole_window_posterior_may() -> (
    None
):
    rng = np.random.default_rng(2)
    onset, lo = 1600, 1600 - 400
    near, anywhere = [], []
    for _ in range(60):
        x = noisy_ramp(rng, 0.04, 5, onset, FS)
        search, _, crossing = _search(x, onset, lo)
        (found,) = change_edge_onsets([search], FS)
        near.append((lo + found - onset) / FS * 1000)
        free = posterior_edge_onset(x[lo : crossing + 100], 1.0, crossing - lo, FS).onset
        anywhere.append((lo + free - onset) / FS * 1000)
    near_ms, anywhere_ms = np.array(near), np.array(anywhere)
    assert np.mean(anywhere_ms < -20) >= 0.1  # the posterior over 200 ms takes early starts
    assert np.mean(near_ms < -20) <= 0.02
    assert np.median(np.abs(near_ms)) <= np.median(np.abs(anywhere_ms)) + 1


def test_searches_computed_together_give_each_one_its_own_onset() -> None:
    rng = np.random.default_rng(5)
    searches = []
    cases = [(20, 0.03, 1300), (10, 0.15, 900), (5, 0.0, 1450), (40, 0.02, 400), (5, 0.05, 1200)]
    for k, (snr_db, ramp_s, lo) in enumerate(cases):
        x = noisy_ramp(rng, ramp_s, snr_db, 1600, FS, n=3000 + 97 * k)
        searches.append(_search(x, 1600, lo)[0])
    # a 40 dB burst beside 5 dB ones: each search's posterior is its own
    together = change_edge_onsets(searches, FS)
    assert together == [change_edge_onsets([s], FS)[0] for s in searches]
    assert change_edge_onsets([], FS) == []


def test_an_onset_inside_a_bin_is_placed_within_it() -> None:
    # a step far above the noise, at every offset from the 4 ms candidate grid: the median
    # is interpolated between the candidates, so the onset is off by at most the spacing
    errors = []
    for offset in range(16):
        x = np.random.default_rng(offset).standard_normal(900)
        x[500 + offset :] *= 30
        (found,) = change_edge_onsets([EdgeSearch(x, 1.0, 440, 520 + offset)], FS)
        errors.append(found - (500 + offset))
    assert -8 <= min(errors) and max(errors) <= 0
    assert np.mean(errors) > -6  # not pinned to the candidate before the step


def test_lost_samples_put_an_onset_among_them_at_their_middle_within_the_bounds() -> None:
    rng = np.random.default_rng(8)
    onset, lo = 1600, 1200
    x = noisy_ramp(rng, 0.0, 20, onset, FS)
    search, _, _ = _search(x, onset, lo)
    (found,) = change_edge_onsets([search], FS)
    assert abs(lo + found - onset) <= 0.005 * FS
    # an onset hidden in a run of lost samples could be anywhere in it
    z = search.x.copy()
    first, stop = found - 12, found + 2
    z[first:stop] = np.nan
    assert change_edge_onsets([search._replace(x=z)], FS) == [(first + stop) // 2]
    # a run that goes on past the crossing counts up to it: the onset is never after it
    z = search.x.copy()
    z[found - 10 : search.crossing + 40] = np.nan
    (hidden,) = change_edge_onsets([search._replace(x=z)], FS)
    assert hidden == (found - 10 + search.crossing + 1) // 2 <= search.crossing
    # nor before the earliest start, where a run began before it
    z = search.x.copy()
    z[search.earliest - 200 : found + 4] = np.nan
    (hidden,) = change_edge_onsets([search._replace(x=z)], FS)
    assert search.earliest <= hidden <= search.crossing


def test_a_search_with_no_room_keeps_its_bounds() -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal(400)
    # nothing rose: the onset still lies between the earliest start and the crossing
    (found,) = change_edge_onsets([EdgeSearch(x, 1.0, 150, 200)], FS)
    assert 150 <= found <= 200
    # an earliest start past the crossing, or before the samples, is held to them
    assert change_edge_onsets([EdgeSearch(x, 1.0, 300, 200)], FS) == [200]
    assert 0 <= change_edge_onsets([EdgeSearch(x, 1.0, -50, 10)], FS)[0] <= 10
    # with no rest power, no samples or powers that overflow, nothing is weighed: the crossing
    # (the others computed with them as ever)
    alone = change_edge_onsets([EdgeSearch(x, 1.0, 150, 200)], FS)
    odd = [
        EdgeSearch(x, 0.0, 150, 200),
        EdgeSearch(np.array([]), 1.0, 0, 0),
        EdgeSearch(np.full(400, 1e200), 1e-200, 150, 200),
        EdgeSearch(x, 1.0, 150, 200),
    ]
    assert change_edge_onsets(odd, FS) == [200, 0, 200, *alone]


def test_samples_lost_early_in_the_rise_are_not_taken_for_a_quiet_stretch() -> None:
    onset, lo = 1600, 1200
    shifts = []
    for seed in range(20):
        x = noisy_ramp(np.random.default_rng(seed), 0.04, 10, onset, FS)
        search, _, _ = _search(x, onset, lo)
        (found,) = change_edge_onsets([search], FS)
        # 5-25 ms into a 40 ms ramp lost: where in there the rise began is unknown, but zeros
        # (a quiet stretch) would push every onset past the gap
        y = search.x.copy()
        y[onset - lo + 10 : onset - lo + 50] = np.nan
        shifts.append(change_edge_onsets([search._replace(x=y)], FS)[0] - found)
    assert np.median(shifts) <= 20
