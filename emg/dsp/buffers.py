"""Reusable channel-major sample history, so streaming stages do not reallocate on every block."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class StreamBuffer:
    """The most recent samples of a multichannel stream, in one reusable array.

    Each :meth:`extend` first forgets all but the last ``keep`` samples held, then makes room
    for the new ones at the end; the array is only compacted when it runs out of room and only
    reallocated when a block is larger than any before, so a stream of equal blocks allocates
    nothing here after its first block.

    Parameters
    ----------
    n_channels
        Number of channels (rows).
    keep
        Samples of history kept before each new block.
    initial
        Zero samples held before the stream starts (they stand for stream indices
        ``-initial .. -1``).
    sample_major
        Hold samples as rows ``(samples, n_channels)`` instead of channels as rows
        ``(n_channels, samples)``.
    """

    def __init__(
        self, n_channels: int, keep: int, initial: int = 0, sample_major: bool = False
    ) -> None:
        if keep < 0 or initial < 0:
            raise ValueError("history lengths must not be negative")
        self.keep = keep
        self.sample_major = sample_major
        size = max(4 * max(keep, initial), 1024)
        # channel-major data is handled through its transpose: the sample axis comes first
        shape = (size, n_channels)
        self._data = np.zeros(shape) if sample_major else np.zeros(shape[::-1]).T
        self._lo, self._hi = 0, initial
        self.end = 0  # stream index one past the last sample appended

    @property
    def start(self) -> int:
        """Stream index of the first sample held."""
        return self.end - (self._hi - self._lo)

    def extend(self, n: int) -> FloatArray:
        """Make room for ``n`` new samples and return every sample held.

        Parameters
        ----------
        n
            Number of samples about to be written.

        Returns
        -------
        ndarray
            View ``(n_channels, held)`` whose last ``n`` columns are the new samples (left
            uninitialised, for the caller to write) and whose first columns are at most ``keep``
            earlier samples; ``(held, n_channels)`` with rows for samples when sample-major
            (C-contiguous then).
        """
        self._lo = max(self._lo, self._hi - self.keep)
        held = self._hi - self._lo
        if self._hi + n > self._data.shape[0]:
            if held + n > self._data.shape[0]:
                shape = (2 * (held + n), self._data.shape[1])
                grown = np.zeros(shape) if self.sample_major else np.zeros(shape[::-1]).T
                grown[:held] = self._data[self._lo : self._hi]
                self._data = grown
            else:
                self._data[:held] = self._data[self._lo : self._hi]
            self._lo, self._hi = 0, held
        self._hi += n
        self.end += n
        view: FloatArray = self._data[self._lo : self._hi]
        return view if self.sample_major else view.T
