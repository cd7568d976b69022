import numpy as np

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
