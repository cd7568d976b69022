"""Trailing RMS envelope and the Teager-Kaiser energy operator, both causal with carried state."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from emg.dsp.buffers import StreamBuffer

FloatArray = npt.NDArray[np.float64]

#: Prefix sums restart every this many samples (counted from the start of the stream), which
#: bounds rounding error and makes every output independent of how the stream was blocked.
ANCHOR_PERIOD = 8192


class RmsEnvelope:
    """Trailing root-mean-square over the last ``window`` samples.

    Window sums come from prefix sums of the squared signal that restart at fixed stream
    positions (every :data:`ANCHOR_PERIOD` samples), so the result for a sample depends only on
    its position in the stream, never on block boundaries: streaming and offline runs agree
    bit for bit. Before the first full window the missing samples count as zero.

    The prefix sums are kept sample-major; with an even number of channels each pair of
    adjacent channels is summed as one complex sequence (its real and imaginary parts are the
    two channels' sums, added in the same order), which halves the serial additions.

    Parameters
    ----------
    window
        Window length in samples (``round(window_s * fs)``).
    n_channels
        Number of channels.
    """

    def __init__(self, window: int, n_channels: int) -> None:
        if window < 1:
            raise ValueError(f"RMS window must be at least one sample, got {window}")
        self.window = window
        self.n_channels = n_channels
        self._period = max(ANCHOR_PERIOD, window)
        self._position = 0
        # prefix sums (each from its own sample's anchor) of the last `window` samples; before
        # the stream starts they are zero
        self._prefix = StreamBuffer(n_channels, keep=window, initial=window, sample_major=True)

    def process(self, x: FloatArray) -> FloatArray:
        """Envelope of one block.

        Parameters
        ----------
        x
            Array ``(n_samples, n_channels)``, any strides (squared in float64).

        Returns
        -------
        ndarray
            RMS envelope, a new C-contiguous array of the same shape and unit as ``x``.
        """
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        if n == 0:
            return np.zeros((0, self.n_channels))
        w, period = self.window, self._period
        start = self._position
        held = self._prefix.extend(n)
        prefix = held[held.shape[0] - n - w :]  # row j: sample start - w + j
        new = prefix[w:]
        np.multiply(x, x, out=new)
        # running prefix sums, restarted at each anchor (a continued one starts from the last
        # sample before the block, as if that sample's prefix were prepended)
        segment_start = 0
        while segment_start < n:
            position = start + segment_start
            segment_stop = min(n, (position // period + 1) * period - start)
            if position % period:
                _cumsum_rows(prefix[w + segment_start - 1 : w + segment_stop])
            else:
                _cumsum_rows(new[segment_start:segment_stop])
            segment_start = segment_stop
        total = np.subtract(new, prefix[:n])
        # windows that span an anchor: the previous anchor's total plus this one's prefix
        first_anchor = max(1, -(-(start - w + 1) // period))
        for anchor in range(first_anchor, (start + n - 1) // period + 1):
            lo = max(anchor * period - start, 0)
            hi = min(anchor * period + w - start, n)
            previous_total = prefix[anchor * period - 1 - (start - w)]
            total[lo:hi] = new[lo:hi] + (previous_total - prefix[lo:hi])
        self._position += n
        np.divide(total, w, out=total)
        out: FloatArray = np.sqrt(total, out=total)
        return out

    def process_rows(self, x: FloatArray) -> FloatArray:
        """Envelope of one channel-major block.

        Parameters
        ----------
        x
            float64 array ``(n_channels, n_samples)``.

        Returns
        -------
        ndarray
            RMS envelope ``(n_channels, n_samples)``, a new array (the transpose of a
            C-contiguous one).
        """
        out: FloatArray = self.process(x.T).T
        return out


def _cumsum_rows(rows: FloatArray) -> None:
    """Running sums down the rows of a C-contiguous ``(n_samples, n_channels)`` array, in place.

    Each channel is summed from its first row on, one sample after the other; adjacent channel
    pairs are summed together as complex numbers (the same additions, two at a time).
    """
    if rows.shape[1] % 2:
        np.cumsum(rows, axis=0, out=rows)
        return
    pairs = rows.view(np.complex128)
    if pairs.shape[1] == 1:
        pairs = pairs[:, 0]  # NumPy sums a 1-d sequence faster than a single column
    np.cumsum(pairs, axis=0, out=pairs)


class Tkeo:
    """Teager-Kaiser energy operator, causal with a one-sample delay.

    ``psi[n] = x[n-1]**2 - x[n-2] * x[n]`` is the operator centred on sample ``n - 1``, reported
    at sample ``n`` so that no future sample is needed (Solnik et al. 2008, 2010).

    Parameters
    ----------
    n_channels
        Number of channels.
    """

    def __init__(self, n_channels: int) -> None:
        self._tail = np.zeros((2, n_channels))  # the last two samples, sample-major

    def process(self, x: FloatArray) -> FloatArray:
        """Operator output for one block ``(n_samples, n_channels)``, a new array."""
        if len(x) == 0:
            return x
        ext = np.concatenate([self._tail, x], axis=0)
        self._tail = ext[-2:].copy()
        out: FloatArray = ext[1:-1] ** 2 - ext[:-2] * ext[2:]
        return out

    def process_rows(self, x: FloatArray) -> FloatArray:
        """Operator output for one channel-major block ``(n_channels, n_samples)``."""
        if x.shape[1] == 0:
            return x
        out: FloatArray = self.process(x.T).T
        return out
