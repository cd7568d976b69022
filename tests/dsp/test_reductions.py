import numpy as np
import pytest

from emg.dsp.reductions import channel_sums, channel_sums_and_squares, sample_sums_and_squares


@pytest.mark.parametrize("n_channels", [1, 2, 3, 4])
def test_sums_are_those_of_sample_major_arrays(n_channels: int) -> None:
    rng = np.random.default_rng(n_channels)
    stream = rng.standard_normal((n_channels, 9000)) * 30
    groups = stream[:, 11 : 11 + 17 * 500].reshape(n_channels, 17, 500)  # a strided view
    sums = channel_sums(groups)
    sums2, squares = channel_sums_and_squares(groups)
    by_sample = np.ascontiguousarray(groups.transpose(1, 2, 0))  # (group, sample, channel)
    for g in range(17):
        y = by_sample[g]
        np.testing.assert_array_equal(sums[g], y.sum(axis=0))
        np.testing.assert_array_equal(squares[g], (y * y).sum(axis=0))
    np.testing.assert_array_equal(sums2, sums)
    # the same from sample-major groups, which are left untouched
    copy = by_sample.copy()
    sample_sums, sample_squares = sample_sums_and_squares(by_sample)
    np.testing.assert_array_equal(sample_sums, sums)
    np.testing.assert_array_equal(sample_squares, squares)
    np.testing.assert_array_equal(by_sample, copy)
    _, one_squares = sample_sums_and_squares(by_sample[:1])
    np.testing.assert_array_equal(one_squares, squares[:1])
    np.testing.assert_array_equal(by_sample, copy)
