"""What the rep tracker remembers of the stream: recent samples and the rest spectrum."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class History:
    """The last samples of some channels, sliceable by stream index.

    Parameters
    ----------
    n_channels
        Columns of every appended chunk.
    """

    def __init__(self, n_channels: int) -> None:
        self._chunks: list[tuple[int, FloatArray]] = []
        self.n_channels = n_channels

    def append(self, start: int, x: FloatArray) -> None:
        """Keep ``x``, ``(n_samples, n_channels)``, whose first sample is stream index
        ``start``."""
        if len(x):
            self._chunks.append((start, x))

    def trim(self, keep_from: int) -> None:
        """Forget the chunks that end before stream index ``keep_from``."""
        while self._chunks and self._chunks[0][0] + len(self._chunks[0][1]) <= keep_from:
            self._chunks.pop(0)

    def slice(self, lo: int, hi: int) -> FloatArray:
        """Samples ``lo`` to ``hi`` (exclusive) that are still kept, ``(n, n_channels)``."""
        parts = [
            x[max(lo - s, 0) : max(min(hi - s, len(x)), 0)]
            for s, x in self._chunks
            if s < hi and s + len(x) > lo
        ]
        if not parts:
            return np.zeros((0, self.n_channels))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


class RestSpectrum:
    """Running mean of the Welch densities of rest stretches, in constant memory.

    Each stretch weighs as many as its Welch segments; once ``memory`` segments have been
    seen, a new stretch replaces that share of the mean (an exponential forgetting over about
    ``memory`` segments), so the estimate follows a slowly changing electrode noise.

    Parameters
    ----------
    memory
        Welch segments the mean remembers.
    """

    def __init__(self, memory: int) -> None:
        self.power: FloatArray | None = None
        self._weight = 0
        self._memory = memory

    def add(self, power: FloatArray, n_segments: int) -> None:
        """Fold the density of a rest stretch of ``n_segments`` Welch segments in."""
        if self.power is None:
            self.power, self._weight = power.copy(), min(n_segments, self._memory)
            return
        total = self._weight + n_segments
        self.power += (n_segments / total) * (power - self.power)
        self._weight = min(total, self._memory)
