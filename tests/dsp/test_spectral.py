import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from emg.dsp.spectral import MedianFrequencyTracker, median_frequency


def test_median_frequency_of_sine() -> None:
    fs = 1000
    t = np.arange(1000) / fs
    assert abs(median_frequency(np.sin(2 * np.pi * 80 * t), fs) - 80) <= 1


def test_tracker_windows_do_not_depend_on_blocking() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5000, 2))
    whole_ends, whole = MedianFrequencyTracker(1000, 500, 250, 2).process(x)
    tracker = MedianFrequencyTracker(1000, 500, 250, 2)
    parts = [tracker.process(x[a:b]) for a, b in [(0, 10), (10, 499), (499, 1777), (1777, 5000)]]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), whole_ends)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), whole)
    assert list(whole_ends[:3]) == [500, 750, 1000]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(8, 600),
    st.integers(8, 300),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
)
def test_welch_power_is_scipys_welch(n: int, segment: int, channels: int, seed: int) -> None:
    from emg.dsp.spectral import welch_power

    if n < segment:
        n = segment
    x = np.random.default_rng(seed).standard_normal((n, channels)) * 30 + 7
    freqs, power = signal.welch(x, 2000.0, nperseg=segment, axis=0)
    ours_f, ours = welch_power(x, 2000.0, segment)
    np.testing.assert_allclose(ours_f, freqs)
    np.testing.assert_allclose(ours, power, rtol=1e-10, atol=1e-12 * power.max())


def _band_noise(rng: np.random.Generator, shape: tuple[int, int], fs: float) -> np.ndarray:
    """Unit-variance Gaussian noise with a flat spectrum from 60 to 140 Hz: median 100 Hz."""
    spectrum = np.fft.rfft(rng.standard_normal(shape), axis=0)
    freqs = np.fft.rfftfreq(shape[0], 1 / fs)
    spectrum[(freqs < 60) | (freqs > 140)] = 0
    x = np.fft.irfft(spectrum, shape[0], axis=0)
    return np.asarray(x / x.std(axis=0), dtype=np.float64)


def test_noise_corrected_median_frequency_removes_the_noise_floor() -> None:
    from emg.dsp.spectral import noise_corrected_median_frequency, welch_power, welch_segment

    fs = 2000.0
    rng = np.random.default_rng(1)
    clean = _band_noise(rng, (20000, 1), fs)
    noisy = clean + rng.standard_normal(clean.shape)  # white noise as strong as the signal
    _, rest = welch_power(rng.standard_normal((20000, 1)), fs, welch_segment(fs))
    reference, _ = noise_corrected_median_frequency(clean, fs)
    corrected, _ = noise_corrected_median_frequency(noisy, fs, rest)
    uncorrected, _ = noise_corrected_median_frequency(noisy, fs)
    assert abs(reference[0] - 100) < 2.5
    assert abs(corrected[0] - reference[0]) < 2
    assert uncorrected[0] - reference[0] > 20  # the flat floor pulls the median up


def test_noise_corrected_median_frequency_without_noise_is_welchs() -> None:
    from emg.dsp.spectral import noise_corrected_median_frequency, welch_median_frequency

    x = np.random.default_rng(2).standard_normal((3000, 3)) * [1.0, 5.0, 0.0]
    mdf, error = noise_corrected_median_frequency(x, 2000.0)
    # the same spectrum, with each bin centred on its frequency (the older one: half a bin low)
    half_bin = 2000.0 / 256 / 2
    np.testing.assert_allclose(mdf[:2], welch_median_frequency(x, 2000.0)[:2] + half_bin)
    assert np.isnan(mdf[2])
    assert np.all(error[:2] > 0) and np.isnan(error[2])
    short, short_error = noise_corrected_median_frequency(x[:100], 2000.0)
    assert np.isnan(short).all() and np.isnan(short_error).all()


def test_median_frequency_error_matches_the_scatter() -> None:
    from emg.dsp.spectral import noise_corrected_median_frequency

    fs = 2000.0
    x = _band_noise(np.random.default_rng(3), (2000, 400), fs)  # 400 bursts of 1 s
    mdf, error = noise_corrected_median_frequency(x, fs)
    # flat 80 Hz band for 1 s: sqrt(80 / 4) = 4.5 Hz
    assert 4.0 < float(np.mean(error)) < 5.2
    assert 0.85 < float(np.std(mdf)) / float(np.sqrt(np.mean(error**2))) < 1.15


def test_effective_duration_counts_where_the_power_is() -> None:
    from emg.dsp.spectral import effective_duration

    x = np.random.default_rng(4).standard_normal((4000, 2))
    x[2000:, 1] = 0.0  # the second channel is silent for its second half
    duration = effective_duration(x, 2000.0, 128)
    assert abs(duration[0] - 31 * 128 / 2000) < 0.1
    assert abs(duration[1] - 15.5 * 128 / 2000) < 0.1
    assert effective_duration(x[:100], 2000.0, 128).tolist() == [0.0, 0.0]
