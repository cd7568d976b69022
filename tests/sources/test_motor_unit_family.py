from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from emg.dsp.spectral import median_frequency
from emg.sources.families import simulate_family
from emg.sources.family_conditions import FamilyCondition, NoiseColour
from emg.sources.motor_unit_family import (
    ISI_CV,
    MIN_RATE_HZ,
    N_UNITS,
    PEAK_RATE_HZ,
    RATE_GAIN,
    MuscleSimulation,
    simulate_motor_units,
)
from emg.sources.synthetic import SynthConfig, generate_session

BASE = FamilyCondition(fs=2000.0, reps=3, lead_ms=80.0, first_onset_s=1.0)


def _plateau_spikes(sim: MuscleSimulation, rep: int, unit: int) -> np.ndarray:
    drive = sim.drives[rep]
    start, stop = drive.onset_s + drive.ramp_s + 0.05, drive.offset_s - 0.2
    t = sim.times_s[(sim.reps == rep) & (sim.units == unit)]
    return t[(t >= start) & (t <= stop)]


@pytest.mark.parametrize("fs", [1000.0, 2000.0])
def test_true_onset_is_the_first_discharge(fs: float) -> None:
    condition = dataclasses.replace(BASE, fs=fs)
    session, muscles = simulate_motor_units(condition, seed=4)
    expected = condition.onset_times(np.random.default_rng(0))[0]
    for k, rep in enumerate(session.truth["reps"]):
        for muscle, sim in muscles.items():
            first = sim.times_s[sim.reps == k].min()
            onset = rep[f"{muscle}_onset_s"]
            assert onset == round(first * fs) / fs
            # the muscle's own signal is silent up to the first discharge, not after it
            i = round(onset * fs)
            assert not sim.signal_uv[i - round(0.3 * fs) : i].any()
            assert np.abs(sim.signal_uv[i : i + round(0.01 * fs)]).max() > 0
            # the drive starts no later than the first discharge
            assert rep[f"{muscle}_drive_onset_s"] <= onset + 1e-9
        assert rep["lead_ms"] == pytest.approx(80.0, abs=1000 / fs + 1e-6)
    # the first rep's onsets are those the condition asks for
    first = session.truth["reps"][0]
    assert (first["glute_onset_s"], first["hamstring_onset_s"]) == pytest.approx(expected)


def test_recruitment_follows_the_thresholds() -> None:
    condition = dataclasses.replace(BASE, shapes=("linear",), glute_ramp_s=(0.1, 0.2))
    _, muscles = simulate_motor_units(condition, seed=1)
    sim = muscles["glute"]
    for k, drive in enumerate(sim.drives):
        in_rep = sim.reps == k
        recruited = np.unique(sim.units[in_rep])
        first = np.array([sim.times_s[in_rep & (sim.units == u)].min() for u in recruited])
        assert np.all(np.diff(first) >= 0)
        # exactly the units whose threshold the plateau reaches
        expected = np.flatnonzero(sim.pool.thresholds <= drive.plateau)
        np.testing.assert_array_equal(recruited, expected)
        assert 0.7 * N_UNITS < len(recruited) < N_UNITS


def test_firing_rates_follow_the_rate_coding() -> None:
    _, muscles = simulate_motor_units(dataclasses.replace(BASE, reps=2), seed=2)
    sim = muscles["glute"]
    drive, pool = sim.drives[0], sim.pool
    rates = []
    for unit in np.flatnonzero(pool.thresholds <= drive.plateau):
        spikes = _plateau_spikes(sim, 0, unit)
        rate = (len(spikes) - 1) / (spikes[-1] - spikes[0])
        expected = min(
            MIN_RATE_HZ + RATE_GAIN * (drive.plateau - pool.thresholds[unit]),
            pool.peak_rates_hz[unit],
        )
        assert rate == pytest.approx(expected, rel=0.2), unit
        rates.append(rate)
    assert MIN_RATE_HZ * 0.8 < min(rates) and max(rates) < PEAK_RATE_HZ * 1.2
    # low-threshold units fire faster than late-recruited ones
    assert np.mean(rates[:10]) > np.mean(rates[-10:]) + 5
    intervals = np.diff(_plateau_spikes(sim, 0, 0))
    assert np.std(intervals) / np.mean(intervals) == pytest.approx(ISI_CV, abs=0.07)


@pytest.mark.parametrize(
    ("glute_db", "hamstring_db", "noise"), [(20.0, 5.0, "white"), (5.0, 10.0, "coloured")]
)
def test_plateau_snr_is_as_requested(
    glute_db: float, hamstring_db: float, noise: NoiseColour
) -> None:
    condition = dataclasses.replace(
        BASE, glute_snr_db=glute_db, hamstring_snr_db=hamstring_db, noise=noise
    )
    session, muscles = simulate_motor_units(condition, seed=3)
    for column, (muscle, requested) in enumerate(
        [("glute", glute_db), ("hamstring", hamstring_db)]
    ):
        sim = muscles[muscle]
        snr = 10 * np.log10(np.mean(sim.signal_uv[sim.plateau] ** 2) / np.mean(sim.noise_uv**2))
        assert snr == pytest.approx(requested, abs=0.5)
        # the recording is that signal plus that noise (no crosstalk, drift or mains here)
        recorded = session.recording.data[:, column].astype(float)
        np.testing.assert_allclose(recorded, sim.signal_uv + sim.noise_uv, atol=1e-3 * 50)
    if noise == "coloured":
        spectrum = np.abs(np.fft.rfft(muscles["glute"].noise_uv)) ** 2
        f = np.fft.rfftfreq(len(muscles["glute"].noise_uv), 1 / condition.fs)
        assert spectrum[(f > 1) & (f < 3)].mean() > 3 * spectrum[(f > 200) & (f < 400)].mean()


def _rise_time_s(sim: MuscleSimulation, fs: float) -> float:
    """Median time from the true onset until the 25 ms RMS first reaches half its plateau."""
    x = sim.signal_uv + sim.noise_uv
    window = round(0.025 * fs)
    rms = np.sqrt(np.convolve(x**2, np.ones(window) / window, mode="full")[: len(x)])
    half = 0.5 * np.sqrt(np.mean(sim.signal_uv[sim.plateau] ** 2))
    times = []
    for k in range(len(sim.drives)):
        onset = round(sim.times_s[sim.reps == k].min() * fs)
        times.append(np.argmax(rms[onset:] > half) / fs)
    return float(np.median(times))


def test_ramp_speed_sets_how_fast_the_rms_rises() -> None:
    condition = dataclasses.replace(
        BASE,
        reps=4,
        shapes=("linear",),
        glute_ramp_s=(0.02, 0.03),
        hamstring_ramp_s=(0.2, 0.25),
        glute_snr_db=30.0,
        hamstring_snr_db=30.0,
    )
    _, muscles = simulate_motor_units(condition, seed=5)
    fast = _rise_time_s(muscles["glute"], condition.fs)
    slow = _rise_time_s(muscles["hamstring"], condition.fs)
    assert fast < 0.045
    assert slow > fast + 0.08


def test_reproducible_per_seed_and_spikes_independent_of_rate() -> None:
    a = simulate_family("motor-unit", BASE, 7)
    b = simulate_family("motor-unit", BASE, 7)
    np.testing.assert_array_equal(a.recording.data, b.recording.data)
    assert a.truth == b.truth
    other = simulate_family("motor-unit", BASE, 8)
    assert not np.array_equal(other.recording.data, a.recording.data)
    _, at_2k = simulate_motor_units(BASE, 7)
    _, at_1k = simulate_motor_units(dataclasses.replace(BASE, fs=1000.0), 7)
    np.testing.assert_array_equal(at_1k["hamstring"].times_s, at_2k["hamstring"].times_s)


@pytest.mark.parametrize("fs", [1000.0, 2000.0])
def test_recording_and_truth_format(fs: float) -> None:
    condition = dataclasses.replace(BASE, fs=fs)
    session, muscles = simulate_motor_units(condition, 0)
    recording = session.recording
    assert recording.data.dtype == np.float32
    assert [c.muscle for c in recording.channels] == ["glute", "hamstring"]
    assert recording.sample_rate == fs
    assert recording.n_samples == round(condition.duration_s() * fs)
    own = generate_session(SynthConfig(reps=2)).truth
    assert set(own) <= set(session.truth)
    assert session.truth["sample_rate"] == fs and session.truth["lost"] == []
    assert len(session.truth["reps"]) == condition.reps
    # a physiological spectrum at both rates (median frequency 60-150 Hz)
    for sim in muscles.values():
        assert 60 < median_frequency(sim.signal_uv[sim.plateau], fs) < 150


def test_crosstalk_drift_and_mains() -> None:
    condition = dataclasses.replace(BASE, crosstalk=0.1, drift_uv=20.0, mains_uv=5.0)
    session, muscles = simulate_motor_units(condition, 6)
    fs = condition.fs
    glute, hamstring = muscles["glute"], muscles["hamstring"]
    extra = session.recording.data[:, 0].astype(float) - glute.signal_uv - glute.noise_uv
    t = np.arange(len(extra)) / fs
    # 50 Hz mains of the requested RMS
    basis = np.stack([np.sin(2 * np.pi * 50 * t), np.cos(2 * np.pi * 50 * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, extra, rcond=None)
    assert np.hypot(*coef) / np.sqrt(2) == pytest.approx(5.0, rel=0.05)
    rest = extra - basis @ coef
    # crosstalk: a tenth of the other muscle, a little low-passed
    gain = np.dot(rest, hamstring.signal_uv) / np.dot(hamstring.signal_uv, hamstring.signal_uv)
    assert 0.07 < gain < 0.1
    # what is left is a drift below 1 Hz of at most the requested peak
    drift = rest - gain * hamstring.signal_uv
    smooth = np.convolve(drift, np.ones(round(0.2 * fs)) / round(0.2 * fs), mode="same")
    edge = round(fs)
    assert 5 < np.abs(smooth[edge:-edge]).max() <= 20.5
