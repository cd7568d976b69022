"""The filters' start-up transient: fitted and taken out, for any blocking."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from emg.analysis.offline import analyze_recording, resolve_mains
from emg.analysis.pipeline import AnalysisConfig
from emg.dsp.chain import ChainConfig, SignalChain, settling_time
from emg.dsp.filters import bandpass_edges, design_bandpass, design_notch
from emg.dsp.onset import Onset
from emg.dsp.startup import StartupTransient
from emg.sources.families import simulate_family
from emg.sources.family_conditions import FamilyCondition
from emg.validation.families import score_result

NOISE_UV = 10.0


def _hum_at_rest(fs: float, mains_hz: float, ratio: float, seconds: float, seed: int) -> np.ndarray:
    """Two channels of rest with mains (and its third harmonic) ``ratio`` x the noise RMS,
    mains that was there before the first sample, and a DC offset."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * fs)) / fs
    hum = np.sin(2 * np.pi * mains_hz * t + rng.uniform(0, 2 * np.pi))
    hum += 0.3 * np.sin(2 * np.pi * 3 * mains_hz * t + rng.uniform(0, 2 * np.pi))
    noise = rng.standard_normal((len(t), 2)) * NOISE_UV
    out: np.ndarray = noise + ratio * NOISE_UV * np.sqrt(2) * hum[:, None] + 400.0
    return out


def _cascade(fs: float, mains_hz: float) -> np.ndarray:
    low, high = bandpass_edges(fs, 20.0, 450.0)
    return np.concatenate([design_bandpass(fs, low, high, 4), design_notch(fs, mains_hz, high)])


@pytest.mark.parametrize(("fs", "mains_hz"), [(1000.0, 50.0), (2000.0, 60.0)])
def test_the_output_is_that_of_filters_that_had_been_running_all_along(
    fs: float, mains_hz: float
) -> None:
    # ground truth: the same stationary signal with 3 s more of it before the stream began
    sos = _cascade(fs, mains_hz)
    x = _hum_at_rest(fs, mains_hz, 100.0, 5.0, seed=1)
    before = round(3.0 * fs)
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    steady, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
    steady = steady[before:]
    stream = x[before:]
    zi = signal.sosfilt_zi(sos)[:, :, None] * stream[0][None, None, :]
    started, _ = signal.sosfilt(sos, stream, axis=0, zi=zi)
    cleaned = StartupTransient(sos, 2).process(started.copy())
    settled = round(settling_time(ChainConfig(mains_hz=mains_hz), fs) * fs)
    window = slice(settled, round(1.0 * fs))

    def rms(e: np.ndarray) -> float:
        return float(np.sqrt(np.mean(e[window] ** 2)))

    assert rms(started - steady) > 10 * NOISE_UV  # the notch still rings after settling
    assert rms(cleaned - steady) < 0.2 * NOISE_UV
    # once the modes have decayed the signal passes unchanged
    late = slice(round(3.0 * fs), None)
    np.testing.assert_array_equal(cleaned[late], started[late])


@pytest.mark.parametrize("fs", [1000.0, 2000.0, 4000.0])
def test_no_sample_is_corrected_by_a_fit_its_samples_do_not_determine(fs: float) -> None:
    """The fit from the first 16-32 samples was undetermined (more modes than samples apart)
    and its extrapolation put up to 750 µV into the first samples at 2 kHz, against mains
    ringing of 15 µV: the correction never makes a sample much larger than the filters made
    it."""
    sos = _cascade(fs, 50.0)
    worst = 0.0
    for seed in range(8):
        x = _hum_at_rest(fs, 50.0, 1.0, 0.5, seed=seed)
        zi = signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
        started, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
        cleaned = StartupTransient(sos, 2).process(started.copy())
        worst = max(worst, float(np.abs(cleaned).max() / np.abs(started).max()))
    assert worst < 1.5


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 900), min_size=1, max_size=12))
def test_any_blocking_gives_the_same_numbers(sizes: list[int]) -> None:
    fs = 1000.0
    sos = _cascade(fs, 50.0)
    x = _hum_at_rest(fs, 50.0, 30.0, 3.0, seed=2)
    filtered, _ = signal.sosfilt(
        sos, x, axis=0, zi=signal.sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
    )
    whole = StartupTransient(sos, 2).process(filtered.copy())
    blocked = StartupTransient(sos, 2)
    parts, start = [], 0
    for size in [*sizes, len(x)]:
        parts.append(blocked.process(filtered[start : start + size].copy()))
        start += size
    np.testing.assert_array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("fs", [1000.0, 2000.0])
def test_strong_mains_at_the_start_is_no_onset(fs: float) -> None:
    # mains 40 dB above the noise: the notch's ringing used to cross the threshold
    onsets = []
    for seed in range(5):
        chain = SignalChain(ChainConfig(mains_hz=50.0), fs, 2)
        events = chain.process_array(_hum_at_rest(fs, 50.0, 100.0, 4.0, seed)).events
        onsets += [e for e in [*events, *chain.flush()] if isinstance(e, Onset)]
    assert onsets == []


@pytest.mark.parametrize("family", ["spectral", "motor-unit"])
def test_a_set_that_starts_a_fifth_of_a_second_in_gets_its_first_onsets_and_order(
    family: str,
) -> None:
    errors, orders = [], []
    for seed in range(3):
        for fs in (1000.0, 2000.0):
            condition = FamilyCondition(fs=fs, reps=2, lead_ms=80.0, first_onset_s=0.2)
            session = simulate_family(family, condition, seed)
            analysis = AnalysisConfig()
            chain = resolve_mains(session.recording, analysis.chain, "auto")
            result = analyze_recording(
                session.recording, dataclasses.replace(analysis, chain=chain), keep_envelope=False
            )
            first = session.truth["reps"][:1]
            score = score_result(result, first, analysis.exercise)
            errors += [e for _, _, e, _ in score.onset_errors]
            orders += [r.order for r in score.reps]
    assert None not in errors
    assert np.median(np.abs(errors)) < 10.0 and max(np.abs(errors)) < 25.0
    assert orders == ["glute-first"] * 6
