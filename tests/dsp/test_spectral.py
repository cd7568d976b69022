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
