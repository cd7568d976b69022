"""Crosstalk removal against signals of known mixture, and onsets with and without it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import signal

from emg.analysis.pipeline import crosstalk_partners, muscle_pairs
from emg.dsp import onset as onset_module
from emg.dsp.chain import ChainConfig, SignalChain
from emg.dsp.crosstalk import (
    CORRELATION_S,
    MIN_SAMPLES_PER_CHANNEL,
    crosstalk_coefficients,
    remove_crosstalk,
)
from emg.dsp.filters import design_bandpass
from emg.dsp.onset import Onset
from emg.sources.families import simulate_family
from emg.sources.family_conditions import MUSCLES, FamilyCondition


def test_the_active_neighbours_copy_is_removed_and_the_muscles_own_signal_kept() -> None:
    rng = np.random.default_rng(1)
    own = rng.standard_normal(600)  # at rest: its rest power is 1
    glute, other = 10 * rng.standard_normal(600), 5 * rng.standard_normal(600)
    mixed = own + 0.03 * glute - 0.05 * other
    cleaned = remove_crosstalk(mixed, np.array([glute, other]), 1.0, np.ones(2))
    # what is left is the muscle's own signal, up to the fit's error (about 1 / sqrt(600))
    assert np.sqrt(np.mean((cleaned - own) ** 2)) < 0.1
    # with no crosstalk in it, the channel loses almost nothing
    alone = remove_crosstalk(own, glute[None, :], 1.0, np.ones(1))
    assert np.mean(alone**2) > 0.99 * np.mean(own**2)


def test_a_quiet_partner_carrying_the_muscles_copy_is_not_used() -> None:
    # the glute is active, the hamstring at rest picks up 5 % of it: regressing the glute on
    # the hamstring would take the glute's own signal out
    rng = np.random.default_rng(3)
    glute = 10 * rng.standard_normal(600) + rng.standard_normal(600)
    hamstring = 0.05 * glute + rng.standard_normal(600)
    kept = remove_crosstalk(glute, hamstring[None, :], 1.0, np.ones(1))
    np.testing.assert_array_equal(kept, glute)
    # the other way round it is the crosstalk that goes (a quarter of the rest power)
    cleaned = remove_crosstalk(hamstring, glute[None, :], 1.0, np.ones(1))
    assert np.mean(hamstring**2) > 1.15
    assert abs(np.mean(cleaned**2) - 1.0) < 0.1
    # only the samples up to `upto` decide who is the more active
    # a channel at rest with crosstalk, then active; the partner active throughout: over the
    # whole segment the channel is the louder, before its own burst the quieter
    partner = 5.5 * rng.standard_normal(600)
    late = np.concatenate(
        [0.3 * partner[:300] + rng.standard_normal(300), 10 * rng.standard_normal(300)]
    )
    np.testing.assert_array_equal(remove_crosstalk(late, partner[None, :], 1.0, [1.0]), late)
    before = remove_crosstalk(late, partner[None, :], 1.0, np.ones(1), upto=300)
    assert not np.array_equal(before, late)


def test_lost_samples_are_left_out_and_stay_lost() -> None:
    rng = np.random.default_rng(2)
    own, glute = rng.standard_normal(600), 10 * rng.standard_normal(600)
    mixed = own + 0.03 * glute
    mixed[100:140] = np.nan
    partner = glute.copy()
    partner[300:320] = np.nan
    cleaned = remove_crosstalk(mixed, partner[None, :], 1.0, np.ones(1))
    assert np.isnan(cleaned[100:140]).all()
    assert not np.isnan(np.delete(cleaned, range(100, 140))).any()
    kept = np.isfinite(partner) & np.isfinite(mixed)
    assert np.sqrt(np.mean((cleaned[kept] - own[kept]) ** 2)) < 0.1
    # where the partner was lost, it takes nothing away
    np.testing.assert_array_equal(cleaned[300:320], mixed[300:320])


def test_a_partner_without_crosstalk_is_seldom_taken_for_one() -> None:
    # band-passed sEMG is correlated over milliseconds and the muscle's own rise at the end of
    # the segment makes its variance change: errors that take the samples as independent
    # and alike called a fifth of these unrelated pairs "significant"
    rng = np.random.default_rng(0)
    fs = 2000.0
    band = design_bandpass(fs, 20.0, 450.0, 4)
    colour = signal.butter(2, 150.0, fs=fs, output="sos")
    rise = np.ones(300)
    rise[-60:] = np.linspace(1.0, 6.0, 60)

    def emg_like() -> np.ndarray:
        shaped = signal.sosfilt(band, signal.sosfilt(colour, rng.standard_normal(700)))
        out: np.ndarray = shaped[400:]
        return out

    taken = {0: 0, round(CORRELATION_S * fs): 0}
    for _ in range(400):
        own, partner = emg_like() * rise, 10.0 * emg_like()
        rests = float(np.mean(own[:200] ** 2)), np.array([float(np.mean(partner**2)) / 100])
        for lag in taken:
            taken[lag] += crosstalk_coefficients(own, partner[None, :], *rests, max_lag=lag).any()
    assert taken[0] > 40  # > 10 %
    assert taken[round(CORRELATION_S * fs)] <= 6  # the nominal 0.3 % and some small-sample slack


def test_nothing_to_fit_leaves_the_channel_as_it_is() -> None:
    x = np.arange(5.0)
    np.testing.assert_array_equal(remove_crosstalk(x, np.empty((0, 5)), 1.0, np.empty(0)), x)
    short = np.ones(MIN_SAMPLES_PER_CHANNEL - 1)
    loud = 10 * short
    np.testing.assert_array_equal(remove_crosstalk(short, loud[None, :], 1.0, np.ones(1)), short)


def _later_onset_errors_ms(crosstalk: float, remove: bool, refinement: str) -> np.ndarray:
    """Errors (ms) of the later muscle's onsets, 80 ms after the other's, both at 20 dB."""
    errors = []
    for seed in range(3):
        for lead in (-80.0, 80.0):
            condition = FamilyCondition(crosstalk=crosstalk, lead_ms=lead, fs=2000.0)
            session = simulate_family("spectral", condition, seed)
            recording = session.recording
            n = len(recording.channels)
            partners = crosstalk_partners(n, muscle_pairs(recording.channels))
            config = ChainConfig(remove_crosstalk=remove).with_refinement(refinement)
            chain = SignalChain(config, recording.sample_rate, n, partners)
            data = recording.data.astype(np.float64)
            events = chain.process_array(data).events + chain.flush()
            later = 1 if lead > 0 else 0
            truth = np.array([rep[f"{MUSCLES[later]}_onset_s"] for rep in session.truth["reps"]])
            for event in events:
                if isinstance(event, Onset) and event.channel == later:
                    t = event.index / recording.sample_rate
                    errors.append(1000 * (t - truth[np.argmin(abs(truth - t))]))
    return np.array(errors)


@pytest.mark.parametrize("refinement", ["cusum", "bayes", "aglr", "cusum-edge"])
def test_crosstalk_no_longer_pulls_the_later_muscles_onset_early(refinement: str) -> None:
    clean = _later_onset_errors_ms(0.0, remove=False, refinement=refinement)
    assert abs(np.median(clean)) < 5.0
    # 5 and 10 % of the earlier muscle's signal on the later one's sensor: while only the
    # earlier muscle is active, the later channel's power is above its rest, enough to cross
    # the threshold, and the onset used to be bounded by that crossing; taken out, the onsets
    # are back about where they are without crosstalk
    for crosstalk, left in ((0.05, 0.03), (0.1, 0.05)):
        kept = _later_onset_errors_ms(crosstalk, remove=False, refinement=refinement)
        removed = _later_onset_errors_ms(crosstalk, remove=True, refinement=refinement)
        assert len(kept) == len(removed) >= 40
        assert np.mean(kept < -20) > 0.1
        assert np.mean(removed < -20) <= left
        assert abs(np.median(removed) - np.median(clean)) < 2.5
    # without crosstalk, taking it out changes the onsets by no more than the fit's noise
    cleaned = _later_onset_errors_ms(0.0, remove=True, refinement=refinement)
    assert abs(np.median(cleaned) - np.median(clean)) < 1.0
    assert np.mean(np.abs(cleaned) > 20) <= np.mean(np.abs(clean) > 20) + 0.02


@pytest.mark.parametrize("refinement", ["cusum-edge", "bayes"])
def test_the_change_point_and_the_edge_near_it_take_out_the_same_crosstalk(
    refinement: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2 % crosstalk, where a fit over the CUSUM's 150 ms and one over the edge's longer
    # segment could decide differently whether there is any: it is fitted once, over the
    # edge's segment, and that onset's coefficients are taken out of both segments
    fitted: list[np.ndarray] = []
    used: dict[tuple[int, int], list[tuple[float, ...]]] = {}
    without_crosstalk = onset_module._without_crosstalk

    def fit(*args: Any, **kwargs: Any) -> np.ndarray:
        coefficients: np.ndarray = crosstalk_coefficients(*args, **kwargs)
        fitted.append(coefficients)
        return coefficients

    def take_out(*args: Any, **kwargs: Any) -> tuple[np.ndarray, bool]:
        # (channel, the sample after the crossing): the same onset in both passes
        channel, lo, given = args[5], args[6], kwargs["given"]
        assert given is not None
        used.setdefault((channel, lo + kwargs["upto"]), []).append(tuple(given.tolist()))
        return without_crosstalk(*args, **kwargs)

    monkeypatch.setattr(onset_module, "crosstalk_coefficients", fit)
    monkeypatch.setattr(onset_module, "_without_crosstalk", take_out)
    onsets = 0
    for seed in range(2):
        condition = FamilyCondition(crosstalk=0.02, lead_ms=80.0, fs=2000.0)
        recording = simulate_family("spectral", condition, seed).recording
        n = len(recording.channels)
        partners = crosstalk_partners(n, muscle_pairs(recording.channels))
        chain = SignalChain(ChainConfig().with_refinement(refinement), 2000.0, n, partners)
        events = chain.process_array(recording.data.astype(np.float64)).events + chain.flush()
        onsets += sum(isinstance(event, Onset) for event in events)
    assert len(fitted) == len(used) == onsets > 0  # once per onset, both muscles partnered
    assert any(c.any() for c in fitted)  # some crosstalk was found
    # each onset's coefficients, the same in the change point's segment and the edge's
    assert all(len(pair) == 2 and pair[0] == pair[1] for pair in used.values())
