"""Sums whose rounding does not depend on memory layout.

Floating-point sums depend on the order of the additions. NumPy adds along an axis one element
after the other when that axis is not the innermost one in memory, and pairwise when it is. The
stages of the chain keep channels as rows (channel-major) for speed, but their statistics are
defined as the sums NumPy forms over sample-major ``(n_samples, n_channels)`` arrays: one after
the other with several channels, pairwise with a single channel (whose column is contiguous).
:func:`channel_sums` reproduces exactly those sums from channel-major data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def channel_sums(x: FloatArray) -> FloatArray:
    """Sums over the last axis, rounded as over the samples of a sample-major array.

    For ``x`` shaped ``(n_channels, n_groups, n_samples)`` the result equals, bit for bit,
    ``y.sum(axis=0)`` for each group's C-ordered sample-major array
    ``y = x[:, g, :].T.copy()``: sequential sums with several channels, NumPy's pairwise sum
    with one.

    Parameters
    ----------
    x
        float64 array ``(n_channels, n_groups, n_samples)``, any strides.

    Returns
    -------
    ndarray
        Sums shaped ``(n_groups, n_channels)``.
    """
    n_channels, n_groups, _ = x.shape
    if n_channels == 1:
        # a single channel's samples are contiguous: NumPy sums them pairwise
        single: FloatArray = np.ascontiguousarray(x[0]).sum(axis=1)
        return single[:, None]
    # the sample axis outermost in memory: NumPy adds one sample after the other
    by_sample = _by_sample(x)
    sums: FloatArray = by_sample.sum(axis=0).reshape(n_channels, n_groups).T
    return sums


def _by_sample(x: FloatArray) -> FloatArray:
    """Channel-major groups reordered sample-major, in one copy straight from ``x``.

    ``(n_channels, n_groups, n_samples)``, any strides, becomes a new C-ordered array
    ``(n_samples, n_channels * n_groups)`` whose column ``channel * n_groups + group`` holds
    that group's samples of that channel.
    """
    n_channels, n_groups, n_samples = x.shape
    by_sample = np.empty((n_samples, n_channels, n_groups))
    np.copyto(by_sample, x.transpose(2, 0, 1))
    return by_sample.reshape(n_samples, n_channels * n_groups)


def channel_sums_and_squares(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """:func:`channel_sums` of ``x`` and of ``x * x``, sharing one reordering of the data.

    Parameters
    ----------
    x
        float64 array ``(n_channels, n_groups, n_samples)``, any strides.

    Returns
    -------
    sums, squares : ndarray
        ``(n_groups, n_channels)`` each.
    """
    n_channels, n_groups, _ = x.shape
    if n_channels == 1:
        single = np.ascontiguousarray(x[0])
        return single.sum(axis=1)[:, None], (single * single).sum(axis=1)[:, None]
    by_sample = _by_sample(x)
    sums: FloatArray = by_sample.sum(axis=0).reshape(n_channels, n_groups).T
    np.multiply(by_sample, by_sample, out=by_sample)
    squares: FloatArray = by_sample.sum(axis=0).reshape(n_channels, n_groups).T
    return sums, squares


def sample_sums_and_squares(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """:func:`channel_sums_and_squares` of sample-major groups.

    Parameters
    ----------
    x
        float64 array ``(n_groups, n_samples, n_channels)``, any strides (fastest
        C-contiguous with an even number of channels); not modified.

    Returns
    -------
    sums, squares : ndarray
        ``(n_groups, n_channels)`` each, bit for bit those of
        ``channel_sums_and_squares(x.transpose(2, 0, 1))``.
    """
    n_groups, n_samples, n_channels = x.shape
    if n_channels == 1:
        return channel_sums_and_squares(x.transpose(2, 0, 1))
    if n_channels % 2 == 0 and x.flags.c_contiguous:
        # sample-major reordering, moving channel pairs as single (complex) items: far faster
        # than NumPy's copy of a 3-d array whose innermost axis holds two values
        pairs = x.view(np.complex128)
        by_sample = np.array(pairs.transpose(1, 0, 2), order="C").view(np.float64)
    else:
        by_sample = np.array(x.transpose(1, 0, 2), order="C")  # a copy: squared in place
    by_sample = by_sample.reshape(n_samples, n_groups * n_channels)
    sums: FloatArray = by_sample.sum(axis=0).reshape(n_groups, n_channels)
    np.multiply(by_sample, by_sample, out=by_sample)
    squares: FloatArray = by_sample.sum(axis=0).reshape(n_groups, n_channels)
    return sums, squares
