"""Bridging samples lost in transit before they reach the filters.

A lost sample arrives zero-filled (the recording keeps it so, with its mask). Fed to the
band-pass as is, a run of zeros in a signal that sits at some level (electrode offset, a slow
motion artefact) is a rectangular pulse of that level: broadband, so the band-passed signal,
hence the RMS envelope, jumps at the gap. A 10 ms gap in a rest signal wandering at 20 µV lifts
the envelope above the onset threshold and makes an onset that never was. Holding the last
value is no better: the last sample is one draw of the noise, and holding it for 10 ms makes a
pulse as high as the noise itself.

:class:`LostSampleBridge` fills each run of lost samples with the mean of the channel's last
received samples (20 ms by default): the signal's slow part, which the band-pass removes
anyway, without its noise. Inside the gap the band-passed signal then decays, so a gap makes
the envelope dip, not rise, and the signal resumes from its own level. It is causal and
carries its state: the fill of a run depends only on the samples received before it, so any
blocking gives the same output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Seconds of received signal whose mean fills a gap: short next to the band-pass's slowest
#: passed period (50 ms at 20 Hz), long enough to average the noise down (to about a fifth
#: of its RMS at 1 kHz).
BRIDGE_MEMORY_S = 0.02


class LostSampleBridge:
    """Fill runs of lost samples with the mean of each channel's last received samples.

    Parameters
    ----------
    n_channels
        Number of channels.
    memory
        Received samples per channel averaged for the fill (at least 1).
    """

    def __init__(self, n_channels: int, memory: int) -> None:
        if memory < 1:
            raise ValueError(f"memory must be at least 1 sample, got {memory}")
        self.memory = memory
        # the last received samples of each channel (fewer at the start of a stream)
        self._recent: list[FloatArray] = [np.zeros(0) for _ in range(n_channels)]

    def process(
        self, x: npt.NDArray[np.floating[Any]], lost: npt.NDArray[np.bool_] | None
    ) -> FloatArray:
        """Bridge the lost samples of the next ``(n_samples, n_channels)`` block.

        Parameters
        ----------
        x
            The samples, lost ones with any value.
        lost
            True where a sample was lost (same shape as ``x``), or None when none was.

        Returns
        -------
        numpy.ndarray
            A sample-major float64 copy of ``x`` in which every run of lost samples holds the
            mean of the (up to ``memory``) samples of its channel received before it, or 0
            when none was.
        """
        out = np.array(x, dtype=np.float64, order="C")
        if lost is None or not lost.any():
            if len(out) >= self.memory:
                self._recent = [out[-self.memory :, c].copy() for c in range(out.shape[1])]
            elif len(out):
                self._recent = [
                    np.concatenate([recent, out[:, c]])[-self.memory :]
                    for c, recent in enumerate(self._recent)
                ]
            return out
        for c in range(out.shape[1]):
            self._recent[c] = self._bridge_channel(out[:, c], lost[:, c], self._recent[c])
        return out

    def _bridge_channel(
        self, column: FloatArray, lost: npt.NDArray[np.bool_], recent: FloatArray
    ) -> FloatArray:
        """Fill ``column``'s lost runs in place; return its last received samples."""
        if not lost.any():
            return np.concatenate([recent, column])[-self.memory :]
        edges = np.flatnonzero(np.diff(np.concatenate([[False], lost, [False]]).astype(np.int8)))
        starts, stops = edges[0::2], edges[1::2]
        before = 0  # end of the received stretch preceding the current run
        for start, stop in zip(starts, stops, strict=True):
            received = column[before:start]
            if len(received) < self.memory:
                received = np.concatenate([recent, received])[-self.memory :]
            else:
                received = received[-self.memory :]
            recent = received
            column[start:stop] = float(np.mean(received)) if len(received) else 0.0
            before = stop
        return np.concatenate([recent, column[before:]])[-self.memory :]
