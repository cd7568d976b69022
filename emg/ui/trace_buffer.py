"""The last seconds of a multichannel signal, for a scrolling plot (bounded memory)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


class TraceBuffer:
    """A ring buffer of the last ``capacity`` samples of several channels.

    Parameters
    ----------
    capacity
        Samples kept per channel.
    n_channels
        Channels.
    """

    def __init__(self, capacity: int, n_channels: int) -> None:
        if capacity < 1 or n_channels < 1:
            raise ValueError(f"need capacity and channels >= 1, got {capacity}, {n_channels}")
        self.capacity = capacity
        self._data = np.zeros((capacity, n_channels), np.float32)
        self._write = 0
        self.stop = 0  # stream index one past the newest sample

    def append(self, start: int, samples: npt.ArrayLike) -> None:
        """Add samples whose first one has stream index ``start``.

        A gap (``start`` beyond :attr:`stop`) is filled with NaN, which plots leave blank;
        samples older than what is kept are ignored.

        Raises
        ------
        ValueError
            For a block that starts before the newest sample (streams only move forward).
        """
        values = np.asarray(samples, dtype=np.float32)
        if values.ndim != 2 or values.shape[1] != self._data.shape[1]:
            raise ValueError(f"expected (n, {self._data.shape[1]}) samples, got {values.shape}")
        if start < self.stop:
            raise ValueError(f"block starts at {start}, before the newest sample {self.stop}")
        gap = start - self.stop
        if gap:
            self._put(np.full((min(gap, self.capacity), values.shape[1]), np.nan, np.float32))
        self._put(values[-self.capacity :])
        self.stop = start + len(values)

    def _put(self, values: FloatArray) -> None:
        n = len(values)
        first = min(n, self.capacity - self._write)
        self._data[self._write : self._write + first] = values[:first]
        self._data[: n - first] = values[first:]
        self._write = (self._write + n) % self.capacity

    @property
    def start(self) -> int:
        """Stream index of the oldest sample kept."""
        return max(0, self.stop - self.capacity)

    def view(self) -> tuple[int, FloatArray]:
        """The samples kept, oldest first, and the stream index of the first one (a copy)."""
        n = self.stop - self.start
        ordered = np.roll(self._data, -self._write, axis=0)[self.capacity - n :]
        return self.start, ordered
