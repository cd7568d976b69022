"""Trailing RMS envelope and the Teager-Kaiser energy operator, both causal with carried state."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

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
        # prefix sums (from each sample's own anchor) and anchor ids of the last `window` samples
        self._hist_prefix = np.zeros((window, n_channels))
        self._hist_anchor = np.full(window, -1, dtype=np.int64)

    def process(self, x: FloatArray) -> FloatArray:
        """Envelope of one block.

        Parameters
        ----------
        x
            float64 array ``(n_samples, n_channels)``.

        Returns
        -------
        ndarray
            RMS envelope, same shape, same unit as ``x``.
        """
        n = len(x)
        if n == 0:
            return np.zeros((0, self.n_channels))
        w, period = self.window, self._period
        start = self._position
        square = x * x
        anchor = (start + np.arange(n)) // period
        prefix = np.empty_like(square)
        # running prefix sum continues from the previous sample unless a new anchor begins
        carry = self._hist_prefix[-1] if self._hist_anchor[-1] == start // period else None
        segment_start = 0
        while segment_start < n:
            segment_anchor = (start + segment_start) // period
            segment_stop = min(n, (segment_anchor + 1) * period - start)
            seg = square[segment_start:segment_stop]
            if carry is None:
                prefix[segment_start:segment_stop] = np.cumsum(seg, axis=0)
            else:
                prefix[segment_start:segment_stop] = np.cumsum(
                    np.concatenate([carry[None, :], seg]), axis=0
                )[1:]
            carry = None
            segment_start = segment_stop
        all_prefix = np.concatenate([self._hist_prefix, prefix])
        all_anchor = np.concatenate([self._hist_anchor, anchor])
        back_prefix = all_prefix[:n]  # prefix at sample i - window
        total = prefix - back_prefix
        crossing = np.flatnonzero(all_anchor[:n] != anchor)  # window spans an anchor
        if len(crossing):
            # prefix at the last sample before this sample's anchor (previous anchor's total)
            before_anchor = anchor[crossing] * period - 1 - (start - w)
            previous_total = np.where(
                (before_anchor >= 0)[:, None], all_prefix[np.clip(before_anchor, 0, None)], 0.0
            )
            total[crossing] = prefix[crossing] + (previous_total - back_prefix[crossing])
        self._hist_prefix = all_prefix[-w:].copy()
        self._hist_anchor = all_anchor[-w:].copy()
        self._position += n
        out: FloatArray = np.sqrt(total / w)
        return out


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
        self._tail = np.zeros((2, n_channels))

    def process(self, x: FloatArray) -> FloatArray:
        """Operator output for one block, same shape as ``x``."""
        if len(x) == 0:
            return x
        ext = np.concatenate([self._tail, x])
        self._tail = ext[-2:].copy()
        out: FloatArray = ext[1:-1] ** 2 - ext[:-2] * ext[2:]
        return out
