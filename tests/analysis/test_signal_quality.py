from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import signal

from emg.analysis.signal_quality import (
    CLIPPING_REMEDY,
    FLAT_REMEDY,
    MAINS_REMEDY,
    MOTION_REMEDY,
    NOISE_REMEDY,
    QualityConfig,
    QualityReport,
    check_signal_quality,
    longest_run,
    true_runs,
)
from emg.dsp.filters import design_bandpass, design_notch
from emg.sources.synthetic import SynthConfig, generate_session

LABELS = ["glute", "hamstring"]
#: emg-stream v1: 3.3 V / 4096 / gain 200, microvolts per count
EMG_STREAM_COUNT_UV = 4.0283203125


def synthetic_rest(fs: float, seed: int, seconds: float = 5.0, **overrides: float) -> np.ndarray:
    """The quiet start of a generated set (electrode noise, plus whatever is switched on)."""
    config = SynthConfig(fs=fs, seed=seed, reps=1, rest_s=seconds + 1.0, **overrides)  # type: ignore[arg-type]
    data = generate_session(config).recording.data
    return np.asarray(data[: round(seconds * fs)], dtype=np.float64)


def expected_rest_rms(noise_uv: float, fs: float, mains_hz: float) -> float:
    """RMS of white noise through the check's band-pass and notch (mean |H|^2 over 0..fs/2)."""
    high = min(450.0, 0.45 * fs)
    sos = np.concatenate([design_bandpass(fs, 20.0, high, 4), design_notch(fs, mains_hz, high)])
    _, response = signal.sosfreqz(sos, worN=1 << 16)
    return noise_uv * float(np.sqrt(np.mean(np.abs(response) ** 2)))


def in_band_noise_power(
    noise_uv: float, fs: float, mains_hz: float, resolution_hz: float = 1.0
) -> float:
    """White-noise power in the Welch bins of the EMG band away from mains harmonics."""
    high = min(450.0, 0.45 * fs)
    freqs = np.arange(0.0, fs / 2 + resolution_hz, resolution_hz)
    band = (freqs >= 20) & (freqs <= high)
    harmonics = mains_hz * np.arange(1, int(high // mains_hz) + 1)
    near = np.any(np.abs(freqs[:, None] - harmonics[None, :]) <= 2.0, axis=1)
    return noise_uv**2 * int(np.count_nonzero(band & ~near)) * resolution_hz / (fs / 2)


# ------------------------------------------------------------------ clean rest


@pytest.mark.parametrize("fs", [2000.0, 1000.0, 200.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_clean_rest_has_no_problem(fs: float, seed: int) -> None:
    x = synthetic_rest(fs, seed)
    report = check_signal_quality(x, fs, LABELS)
    assert report.ok, report.verdict()
    assert report.verdict() == "Signals look good: ready to calibrate."
    assert report.band_hz == (20.0, min(450.0, 0.45 * fs))
    expected = expected_rest_rms(5.0, fs, report.mains_hz)
    for channel in report.channels:
        assert channel.problems == () and channel.ok
        assert channel.rms_uv == pytest.approx(expected, rel=0.06)
        assert channel.mains_ratio_db < -10.0
        # white noise: 18 Hz of motion band (2-20 Hz) against the EMG band away from mains
        motion = 25.0 * 18.0 / (fs / 2) / in_band_noise_power(5.0, fs, report.mains_hz, 0.25)
        assert channel.motion_ratio_db == pytest.approx(10 * np.log10(motion), abs=1.5)


def test_quantised_signal_with_slow_drift_is_not_clipped_or_flat() -> None:
    # a coarse 12-bit sensor at rest: 3 uV noise, 50 uV of slow electrode drift, 4 uV counts
    for fs in (200.0, 1000.0, 2000.0):
        for seed in range(20):
            rng = np.random.default_rng(seed)
            t = np.arange(round(5 * fs)) / fs
            x = 3 * rng.standard_normal(len(t)) + 50 * np.sin(2 * np.pi * 0.7 * t + seed)
            counts = np.round(x / EMG_STREAM_COUNT_UV) * EMG_STREAM_COUNT_UV
            report = check_signal_quality(counts, fs, ["glute"])
            assert report.ok, (fs, seed, report.verdict())


# ------------------------------------------------------------------ flat


def test_flat_and_stuck_channels() -> None:
    fs = 1000.0
    good = synthetic_rest(fs, 0)[:, 0]
    cases = {
        "zeros": np.zeros_like(good),
        "tiny": 0.01 * np.random.default_rng(1).standard_normal(len(good)),
        "offset": np.full_like(good, 1650.0),
    }
    stuck = good.copy()
    stuck[1000:2000] = stuck[1000]  # 1 s frozen in the middle
    cases["stuck"] = stuck
    for name, x in cases.items():
        report = check_signal_quality(np.column_stack([good, x]), fs, ["glute", name])
        assert report.channels[0].ok
        assert report.channels[1].codes() == ("flat",), name
        assert report.channels[1].problems[0].remedy == FLAT_REMEDY
        assert "press the electrode down" in FLAT_REMEDY.lower()
        assert not report.ok
    frozen = check_signal_quality(stuck, fs, ["glute"]).channels[0].problems[0]
    assert "for 1.0 s" in frozen.message


def test_stuck_at_the_rail_says_so() -> None:
    fs = 1000.0
    x = np.full(5000, 16497.0)
    problem = check_signal_quality(x, fs, ["glute"], adc_range=(-16497.0, 16497.0))
    assert problem.channels[0].codes() == ("flat",)
    assert "sensor's limit" in problem.channels[0].problems[0].message


# ------------------------------------------------------------------ clipping


def clipped_rest(fs: float, seed: int, limit: float) -> np.ndarray:
    """Rest noise with large slow excursions (a knocked cable) that saturate at +-limit."""
    x = synthetic_rest(fs, seed)[:, 0]
    t = np.arange(len(x)) / fs
    x += 3 * limit * np.exp(-(((t - 2.5) / 0.05) ** 2))  # one big bump to the top
    return np.clip(x, -limit, limit)


@pytest.mark.parametrize("fs", [2000.0, 200.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_clipping_found_with_and_without_the_adc_range(fs: float, seed: int) -> None:
    limit = 1000.0
    x = clipped_rest(fs, seed, limit)
    tolerance = QualityConfig().adc_tolerance * 2 * limit
    for adc_range in (None, (-limit, limit)):
        near = 0.0 if adc_range is None else tolerance
        clipped = int(np.count_nonzero(x >= limit - near))
        channel = check_signal_quality(x, fs, ["glute"], adc_range=adc_range).channels[0]
        assert "clipping" in channel.codes()
        problem = channel.problems[channel.codes().index("clipping")]
        assert f"for {clipped} samples" in problem.message and "1000 uV" in problem.message
        assert problem.remedy == CLIPPING_REMEDY


def test_no_clipping_below_the_adc_range_or_for_short_touches() -> None:
    fs = 1000.0
    x = synthetic_rest(fs, 3)
    assert check_signal_quality(x, fs, LABELS, adc_range=(-16497.0, 16497.0)).ok
    touch = x[:, 0].copy()
    touch[2000:2002] = 16497.0  # two samples at the limit: less than a run of three
    channel = check_signal_quality(touch, fs, ["glute"], adc_range=(-16497.0, 16497.0))
    assert "clipping" not in channel.channels[0].codes()


def test_adc_range_per_label() -> None:
    fs = 1000.0
    x = np.column_stack([clipped_rest(fs, 0, 800.0), synthetic_rest(fs, 1)[:, 0]])
    ranges = {"glute": (-800.0, 800.0), "hamstring": (-800.0, 800.0)}
    report = check_signal_quality(x, fs, LABELS, adc_range=ranges)
    assert "clipping" in report.channels[0].codes() and report.channels[1].ok


# ------------------------------------------------------------------ mains


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mains_ratio_matches_the_injected_hum_at_2khz(mains_hz: float, seed: int) -> None:
    fs, mains_uv, noise_uv = 2000.0, 30.0, 5.0
    x = synthetic_rest(fs, seed, mains_hz=mains_hz, mains_uv=mains_uv, noise_uv=noise_uv)
    report = check_signal_quality(x, fs, LABELS)
    # the generator adds the fundamental (RMS mains_uv) and 0.3 x that at the 3rd harmonic
    injected = 10 * np.log10(mains_uv**2 * 1.09 / in_band_noise_power(noise_uv, fs, mains_hz))
    assert report.mains_hz == mains_hz
    for channel in report.channels:
        assert channel.mains_ratio_db == pytest.approx(injected, abs=1.5)
        # the notch keeps the hum out of the rest RMS
        assert channel.rms_uv == pytest.approx(expected_rest_rms(noise_uv, fs, mains_hz), rel=0.06)


def test_mains_ratio_at_200hz() -> None:
    fs, mains_uv, noise_uv = 200.0, 30.0, 5.0
    noise_power = in_band_noise_power(noise_uv, fs, 50.0)
    # generator: the 150 Hz harmonic aliases onto 50 Hz and adds with an unknown phase
    low = 10 * np.log10(mains_uv**2 * 0.7**2 / noise_power)
    high = 10 * np.log10(mains_uv**2 * 1.3**2 / noise_power)
    for seed in range(4):
        report = check_signal_quality(synthetic_rest(fs, seed, mains_uv=mains_uv), fs, LABELS)
        assert report.mains_hz == 50.0
        for channel in report.channels:
            assert low - 1.0 <= channel.mains_ratio_db <= high + 1.0
    # a pure 50 Hz hum: the ratio is exact
    rng = np.random.default_rng(7)
    t = np.arange(1000) / fs
    x = noise_uv * rng.standard_normal(len(t)) + mains_uv * np.sqrt(2) * np.sin(2 * np.pi * 50 * t)
    channel = check_signal_quality(x, fs, ["glute"]).channels[0]
    assert channel.mains_ratio_db == pytest.approx(
        10 * np.log10(mains_uv**2 / noise_power), abs=1.0
    )


@pytest.mark.parametrize("fs", [2000.0, 200.0])
def test_strong_mains_hum_is_a_problem(fs: float) -> None:
    x = synthetic_rest(fs, 4, mains_uv=100.0)
    report = check_signal_quality(x, fs, LABELS)
    for channel in report.channels:
        assert channel.codes() == ("mains",)
        assert channel.mains_ratio_db > 25.0
        assert "50 Hz" in channel.problems[0].message
    assert report.remedies() == [MAINS_REMEDY]
    assert "charger" in MAINS_REMEDY
    # the configured mains frequency is used as given
    fixed = check_signal_quality(x, fs, LABELS, QualityConfig(mains_hz=60.0))
    assert fixed.mains_hz == 60.0 and fixed.channels[0].mains_ratio_db < 0


# ------------------------------------------------------------------ noise


@pytest.mark.parametrize("fs", [2000.0, 200.0])
def test_high_baseline_noise(fs: float) -> None:
    x = synthetic_rest(fs, 5, noise_uv=40.0)
    report = check_signal_quality(x, fs, LABELS)
    expected = expected_rest_rms(40.0, fs, report.mains_hz)
    assert expected > 20.0
    for channel in report.channels:
        assert channel.codes() == ("noise",)
        assert channel.rms_uv == pytest.approx(expected, rel=0.06)
        assert channel.problems[0].remedy == NOISE_REMEDY
    # just under the limit is fine; the limit is configurable
    quiet = synthetic_rest(fs, 5, noise_uv=15.0)
    assert check_signal_quality(quiet, fs, LABELS).ok
    strict = check_signal_quality(quiet, fs, LABELS, QualityConfig(noise_max_uv=5.0))
    assert all(c.codes() == ("noise",) for c in strict.channels)


# ------------------------------------------------------------------ motion


@pytest.mark.parametrize("fs", [2000.0, 200.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_motion_artefacts_from_the_generator(fs: float, seed: int) -> None:
    # muscle activity far below the noise: the generator's bumps at the rep starts remain
    config = SynthConfig(fs=fs, seed=seed, reps=2, rest_s=1.5, snr_db=-60.0, artefact_uv=500.0)
    x = generate_session(config).recording.data[: round(6 * fs)].astype(np.float64)
    report = check_signal_quality(x, fs, LABELS)
    for channel in report.channels:
        assert "motion" in channel.codes()
        assert channel.motion_ratio_db > 10.0
        assert channel.problems[channel.codes().index("motion")].remedy == MOTION_REMEDY


def test_motion_in_the_band_below_20hz_but_not_slow_drift() -> None:
    fs = 1000.0
    x = synthetic_rest(fs, 6)[:, 0]
    t = np.arange(len(x)) / fs
    wobble = x + 60 * np.sin(2 * np.pi * 6 * t)  # cable swinging at 6 Hz
    channel = check_signal_quality(wobble, fs, ["glute"]).channels[0]
    # 60 uV amplitude: power 1800 uV^2 over the band noise
    band = in_band_noise_power(5.0, fs, 50.0, resolution_hz=0.25)
    assert channel.codes() == ("motion",)
    assert channel.motion_ratio_db == pytest.approx(10 * np.log10(1800 / band), abs=1.0)
    # electrode drift of 0.5 Hz, even 500 uV, is removed by the band-pass: no problem
    drift = x + 500 * np.sin(2 * np.pi * 0.5 * t) + 2000.0
    assert check_signal_quality(drift, fs, ["glute"]).ok


# ------------------------------------------------------------------ report and inputs


def test_report_is_json_ready_and_lists_each_remedy_once() -> None:
    fs = 1000.0
    x = np.column_stack([synthetic_rest(fs, 8, mains_uv=100.0)[:, 0], np.zeros(5000)])
    report = check_signal_quality(x, fs, LABELS)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["ok"] is False and data["mains_hz"] == 50.0
    assert [p["code"] for p in data["channels"][0]["problems"]] == ["mains"]
    assert [p["code"] for p in data["channels"][1]["problems"]] == ["flat"]
    assert data["channels"][1]["mains_ratio_db"] == -60.0  # floored, not -inf
    assert report.remedies() == [MAINS_REMEDY, FLAT_REMEDY]
    assert report.verdict().startswith("Fix before calibrating. glute: mains hum")
    assert [label for label, _ in report.problems()] == ["glute", "hamstring"]
    assert isinstance(report, QualityReport)


def test_bad_inputs() -> None:
    fs = 1000.0
    with pytest.raises(ValueError, match="at least 1 s"):
        check_signal_quality(np.zeros((500, 2)), fs, LABELS)
    with pytest.raises(ValueError, match="do not match 2 channel labels"):
        check_signal_quality(np.zeros((2000, 3)), fs, LABELS)
    x = synthetic_rest(fs, 0)
    x[10, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        check_signal_quality(x, fs, LABELS)
    with pytest.raises(ValueError, match="50 or 60"):
        QualityConfig(mains_hz=55.0)
    with pytest.raises(ValueError, match="motion band"):
        QualityConfig(motion_low_hz=25.0)


def test_run_helpers() -> None:
    assert true_runs(
        np.array([True, True, False, True, False, False, True, True, True])
    ).tolist() == [2, 1, 3]
    assert true_runs(np.zeros(4, dtype=bool)).tolist() == []
    assert longest_run(np.array([1.0, 2.0, 2.0, 2.0, 3.0, 3.0])) == (3, 1)
    assert longest_run(np.array([5.0])) == (1, 0)
