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
#: Seconds after a gap during which the filtered signal still answers the signal resuming
#: (a step of about one noise sample) and is left out of the onset refinement.
SHADOW_GUARD_S = 0.01


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
            mean of the ``memory`` samples of its channel received before it (0 before any).
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


class LostSampleShadow:
    """Where the filtered signal says nothing about the muscle: lost samples and the ``guard``
    samples after each run of them (the filters' response to the signal resuming).

    The onset refinement leaves these samples out (see :mod:`emg.dsp.onset`): inside a gap
    the bridged signal looks quiet and where it resumes it looks busy, and either would pull
    an onset to the gap.

    Parameters
    ----------
    n_channels
        Number of channels.
    guard
        Samples after each lost run that are shadowed too (0: the lost samples only).
    """

    def __init__(self, n_channels: int, guard: int) -> None:
        if guard < 0:
            raise ValueError(f"guard must not be negative, got {guard}")
        self.guard = guard
        # row of each channel's last lost sample, relative to the next block's first row
        self._last_lost = np.full(n_channels, -np.inf)

    def process(
        self, lost: npt.NDArray[np.bool_] | None, n_samples: int
    ) -> npt.NDArray[np.bool_] | None:
        """The shadow of the next block of ``n_samples`` samples.

        Parameters
        ----------
        lost
            True where a sample was lost, ``(n_samples, n_channels)``, or None when none was.
        n_samples
            Samples in the block.

        Returns
        -------
        numpy.ndarray or None
            True where a sample is lost or within ``guard`` samples after a lost one (a gap
            in an earlier block included), or None when no sample of the block is.
        """
        rows = np.arange(n_samples, dtype=np.float64)[:, None]
        if lost is None or not lost.any():
            reach = self._last_lost + self.guard  # last row still shadowed by earlier gaps
            self._last_lost = self._last_lost - n_samples
            return np.asarray(rows <= reach) if (reach >= 0).any() else None
        last = np.maximum.accumulate(np.where(lost, rows, -np.inf), axis=0)
        last = np.maximum(last, self._last_lost)
        self._last_lost = last[-1] - n_samples
        return np.asarray(rows - last <= self.guard)
