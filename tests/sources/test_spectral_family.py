"""The spectral simulator family: exact onsets, requested SNR, shapes and reproducibility."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import signal

from emg.sources.families import simulate_family
from emg.sources.family_conditions import FamilyCondition
from emg.sources.spectral_family import onset_activation, shwedyk_carrier, simulate_spectral_set


@pytest.mark.parametrize("shape", ["step", "linear", "sigmoid", "exponential"])
def test_activation_leaves_zero_at_the_onset_and_reaches_the_plateau_at_the_ramp_end(
    shape: str,
) -> None:
    t = np.array([-1e-3, 0.0, 0.1, 0.2, 0.3])
    a = onset_activation(t, shape, 0.2)  # type: ignore[arg-type]
    assert a[0] == 0.0 and 0 < a[1] <= (1.0 if shape == "step" else 0.021)
    assert a[3] >= 0.95 and a[4] == pytest.approx(a[3], abs=0.05)
    assert np.all(np.diff(a) >= 0)


def test_carrier_has_unit_power_and_an_semg_spectrum() -> None:
    rng = np.random.default_rng(0)
    x = shwedyk_carrier(rng, 200_000, 2000.0, 60.0, 120.0)
    assert np.mean(x**2) == pytest.approx(1.0, rel=0.05)
    f, p = signal.welch(x, 2000.0, nperseg=1024)
    assert 40 < f[np.argmax(p)] < 110
    cumulative = np.cumsum(p) / p.sum()
    assert 60 < f[np.searchsorted(cumulative, 0.5)] < 140  # median frequency


@pytest.mark.parametrize("fs", [1000.0, 2000.0])
def test_truth_is_exact_and_snr_is_as_requested(fs: float) -> None:
    condition = FamilyCondition(
        fs=fs, reps=6, lead_ms=-90.0, glute_snr_db=5.0, hamstring_snr_db=20.0, shapes=("step",)
    )
    session = simulate_spectral_set(condition, seed=4)
    data = session.recording.data.astype(np.float64)
    truth = session.truth
    noise = truth["noise_uv"]
    for rep in truth["reps"]:
        assert rep["lead_ms"] == pytest.approx(-90.0)
        assert rep["order"] == "hamstring-first"
        for c, muscle in enumerate(("glute", "hamstring")):
            on = round(rep[f"{muscle}_onset_s"] * fs)
            before = data[on - round(0.3 * fs) : on - 1, c]
            assert np.sqrt(np.mean(before**2)) == pytest.approx(noise, rel=0.25)
    for c, snr in enumerate((5.0, 20.0)):
        plateau = np.concatenate(
            [
                data[
                    round((r["glute_onset_s"] + 0.3) * fs) : round((r["glute_onset_s"] + 0.7) * fs),
                    c,
                ]
                for r in truth["reps"]
            ]
        )
        measured = 10 * np.log10(np.mean(plateau**2) / noise**2 - 1)
        assert measured == pytest.approx(snr, abs=1.0)


def test_reproducible_per_seed_and_different_across_seeds() -> None:
    condition = FamilyCondition(fs=1000.0, reps=3)
    a = simulate_family("spectral", condition, 1).recording.data
    b = simulate_family("spectral", condition, 1).recording.data
    c = simulate_family("spectral", condition, 2).recording.data
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_ramps_are_drawn_per_muscle_from_their_own_range() -> None:
    condition = FamilyCondition(
        reps=8, glute_ramp_s=(0.02, 0.06), hamstring_ramp_s=(0.15, 0.25), shapes=("linear",)
    )
    reps = simulate_spectral_set(condition, 0).truth["reps"]
    assert all(0.02 <= r["glute_ramp_s"] <= 0.06 for r in reps)
    assert all(0.15 <= r["hamstring_ramp_s"] <= 0.25 for r in reps)
    noisy = dataclasses.replace(condition, noise="coloured", drift_uv=30.0, mains_uv=5.0)
    assert simulate_spectral_set(noisy, 0).recording.data.std() > 0
