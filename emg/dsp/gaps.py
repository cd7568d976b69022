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

A level leaves the mains out of the gap. When the chain notches the mains, its narrow stop band
then rings after the gap for a couple of tenths of a second, at the mains frequency and above
the rest level when the mains is strong: with 8 uV of mains and a 10 ms packet lost 20-140 ms
before each onset (15 dB), 3 % of the onsets came 20-100 ms early. With ``period`` (the mains
cycle in samples) a run is filled with the channel's last received cycle, repeated: the mains
goes on in phase through the gap, its slow part too, and none of those onsets came more than
16 ms early.
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
    period
        Samples in a mains cycle (at most ``memory``): fill with the last cycle received,
        repeated, instead of the mean; None: the mean.
    """

    def __init__(self, n_channels: int, memory: int, period: int | None = None) -> None:
        if memory < 1:
            raise ValueError(f"memory must be at least 1 sample, got {memory}")
        if period is not None and not 1 <= period <= memory:
            raise ValueError(f"period must be from 1 to memory ({memory}) samples, got {period}")
        self.memory = memory
        self.period = period
        # the last received samples of each channel (fewer at the start of a stream)
        self._recent: list[FloatArray] = [np.zeros(0) for _ in range(n_channels)]
        # with a period, each channel's last `period` samples as bridged (received or filled):
        # a fill that repeats them stays in phase across gaps and blocks
        self._bridged: list[FloatArray] = [np.zeros(0) for _ in range(n_channels)]
        self._position = 0  # stream index of the next sample

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
            mean of the (up to ``memory``) samples of its channel received before it (with
            ``period``, its last cycle of them, repeated), or 0 when none was.
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
        else:
            for c in range(out.shape[1]):
                self._recent[c] = self._bridge_channel(
                    out[:, c], lost[:, c], self._recent[c], self._bridged[c]
                )
        self._position += len(out)
        if self.period is not None and len(out):
            period = self.period
            self._bridged = [
                out[-period:, c].copy()
                if len(out) >= period
                else np.concatenate([bridged, out[:, c]])[-period:]
                for c, bridged in enumerate(self._bridged)
            ]
        return out

    def _bridge_channel(
        self,
        column: FloatArray,
        lost: npt.NDArray[np.bool_],
        recent: FloatArray,
        bridged: FloatArray,
    ) -> FloatArray:
        """Fill ``column``'s lost runs in place (``bridged``: the samples before it as bridged,
        for the cycle); return its last received samples."""
        if not lost.any():
            return np.concatenate([recent, column])[-self.memory :]
        edges = np.flatnonzero(np.diff(np.concatenate([[False], lost, [False]]).astype(np.int8)))
        starts, stops = edges[0::2], edges[1::2]
        # the block after the samples before it as bridged: a run's cycle may reach back
        history = len(bridged) if self.period is not None else 0
        extended = np.concatenate([bridged, column]) if history else column
        before = 0  # end of the received stretch preceding the current run
        for start, stop in zip(starts, stops, strict=True):
            received = column[before:start]
            if len(received) < self.memory:
                received = np.concatenate([recent, received])[-self.memory :]
            else:
                received = received[-self.memory :]
            recent = received
            extended[history + start : history + stop] = (
                float(np.mean(received)) if len(received) else 0.0
            )
            if self.period is not None:
                self._repeat_cycle(extended, history, start, stop)
            before = stop
        if history:
            column[:] = extended[history:]
        return np.concatenate([recent, column[before:]])[-self.memory :]

    def _repeat_cycle(self, extended: FloatArray, history: int, start: int, stop: int) -> None:
        """Fill the block's samples ``start .. stop`` (at ``history`` into ``extended``, after
        the last samples before the block as bridged) with the samples a period earlier, a
        run's own fill included, from the stream's first whole period on; those before it
        keep the mean. The same for any blocking: sample ``t`` of a run is sample
        ``t - period``, wherever the blocks begin."""
        period = int(self.period or 0)
        first = max(start, period - self._position)  # stream index >= period from here
        for at in range(first, stop, period):
            end = min(at + period, stop)
            extended[history + at : history + end] = extended[
                history + at - period : history + end - period
            ]


def mains_period(sample_rate: float, mains_hz: float) -> int:
    """Samples in the fewest whole mains cycles (up to 6) that last a whole number of samples
    (the nearest to one when none does), so that repeating them keeps the mains in phase.

    Examples
    --------
    >>> mains_period(1000.0, 50.0), mains_period(1000.0, 60.0), mains_period(500.0, 60.0)
    (20, 50, 25)
    """
    cycles = np.arange(1, 7)
    length = cycles * sample_rate / mains_hz
    best = int(np.argmin(np.abs(length - np.round(length))))  # the first of equals
    return round(float(length[best]))
