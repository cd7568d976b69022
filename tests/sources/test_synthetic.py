import numpy as np
import pytest
from scipy import signal

from emg.dsp.spectral import median_frequency
from emg.sources.synthetic import SynthConfig, generate_session, shaped_noise


def _active_mdf(config: SynthConfig, muscle: str = "glute", rep: int = 0) -> float:
    session = generate_session(config)
    truth = session.truth["reps"][rep]
    fs = config.fs
    c = [ch.muscle for ch in session.recording.channels].index(muscle)
    on, off = truth[f"{muscle}_onset_s"], truth[f"{muscle}_offset_s"]
    x = session.recording.data[int((on + 0.2) * fs) : int((off - 0.2) * fs), c]
    return float(median_frequency(x.astype(float), fs))


def test_spectrum_is_physiological() -> None:
    x = shaped_noise(np.random.default_rng(0), 200000, 2000.0)
    freqs, power = signal.welch(x, fs=2000, nperseg=2048)
    assert 55 <= freqs[np.argmax(power)] <= 120
    assert 60 <= median_frequency(x, 2000) <= 120
    assert np.isclose(np.sqrt(np.mean(x**2)), 1.0)


def test_median_frequency_in_range_and_falls_with_fatigue() -> None:
    fresh = _active_mdf(SynthConfig(snr_db=30, reps=5, seed=1))
    assert 60 <= fresh <= 120
    tired_first = _active_mdf(SynthConfig(snr_db=30, reps=5, seed=1, fatigue=0.3), rep=0)
    tired_last = _active_mdf(SynthConfig(snr_db=30, reps=5, seed=1, fatigue=0.3), rep=4)
    assert tired_last < 0.85 * tired_first


def test_truth_matches_request_and_seed_reproduces() -> None:
    config = SynthConfig(reps=4, lead_ms=(-80.0, 60.0, 0.0, 120.0), seed=3, snr_db=10)
    a, b = generate_session(config), generate_session(config)
    np.testing.assert_array_equal(a.recording.data, b.recording.data)
    reps = a.truth["reps"]
    leads = [1000 * (r["hamstring_onset_s"] - r["glute_onset_s"]) for r in reps]
    np.testing.assert_allclose(leads, [-80, 60, 0, 120], atol=1e-9)
    assert [r["order"] for r in reps] == [
        "hamstring-first",
        "glute-first",
        "simultaneous",
        "glute-first",
    ]
    assert all(np.isclose(r["ratio"], r["glute_level"] / r["hamstring_level"]) for r in reps)
    other = generate_session(SynthConfig(reps=4, lead_ms=(-80.0, 60.0, 0.0, 120.0), seed=4))
    assert not np.array_equal(other.recording.data, a.recording.data)


def test_snr_is_as_requested() -> None:
    config = SynthConfig(reps=3, snr_db=10, seed=2, level_jitter=0.0)
    session = generate_session(config)
    fs, x = config.fs, session.recording.data[:, 0].astype(float)
    rep = session.truth["reps"][0]
    active = x[int((rep["glute_onset_s"] + 0.3) * fs) : int((rep["glute_offset_s"] - 0.3) * fs)]
    rest = x[: int(2.5 * fs)]
    snr = 10 * np.log10((np.mean(active**2) - np.mean(rest**2)) / np.mean(rest**2))
    assert abs(snr - 10) < 1.5  # the plateau wobbles by +-15 %


def test_switchable_interference() -> None:
    base = SynthConfig(reps=2, seed=5)
    clean = generate_session(base).recording.data[:, 0].astype(float)
    hum = generate_session(SynthConfig(reps=2, seed=5, mains_uv=10.0, mains_hz=60.0))
    freqs, power = signal.welch(hum.recording.data[:4000, 0], fs=2000, nperseg=2000)
    assert freqs[np.argmax(power)] == 60
    moved = generate_session(SynthConfig(reps=2, seed=5, artefact_uv=100.0)).recording
    slow = moved.data[:, 0].astype(float) - clean
    f, p = signal.welch(slow, fs=2000, nperseg=4000)
    assert np.sum(p[f < 20]) > 0.99 * np.sum(p)
    lossy = generate_session(SynthConfig(reps=2, seed=5, loss=0.1))
    lost = lossy.recording.lost
    assert 0.05 < lost.mean() < 0.15
    assert np.all(lossy.recording.data[lost] == 0)
    assert sum(r["stop"] - r["start"] for r in lossy.truth["lost"]) == lost.sum()


def test_crosstalk_and_cramp() -> None:
    talk = generate_session(
        SynthConfig(reps=2, seed=6, lead_ms=400.0, crosstalk=0.3, rep_period_s=3.5, snr_db=30)
    )
    rep = talk.truth["reps"][0]
    fs = 2000
    # hamstring channel carries the glute signal before the hamstring switches on
    window = slice(int((rep["glute_onset_s"] + 0.1) * fs), int((rep["hamstring_onset_s"]) * fs))
    rest = slice(0, int(2.5 * fs))
    ham = talk.recording.data[:, 1].astype(float)
    assert np.std(ham[window]) > 3 * np.std(ham[rest])
    cramp = generate_session(SynthConfig(reps=6, seed=6, cramp_rep=3))
    episode = cramp.truth["cramp"]
    assert episode["start_s"] == cramp.truth["reps"][2]["glute_onset_s"]
    between = slice(int((episode["peak_s"] - 0.2) * fs), int((episode["peak_s"] + 0.2) * fs))
    assert np.std(cramp.recording.data[between, 1]) > 10 * 5.0


def test_sides_and_bad_configs() -> None:
    session = generate_session(SynthConfig(reps=1, sides=True))
    assert [c.label for c in session.recording.channels] == [
        "glute_left",
        "hamstring_left",
        "glute_right",
        "hamstring_right",
    ]
    with pytest.raises(ValueError, match="overlap"):
        generate_session(SynthConfig(lead_ms=-2000.0))
    with pytest.raises(ValueError, match="lead_ms has 2 values"):
        generate_session(SynthConfig(reps=3, lead_ms=(1.0, 2.0)))
