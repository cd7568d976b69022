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

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Seconds of received signal whose mean fills a gap: short next to the band-pass's slowest
#: passed period (50 ms at 20 Hz), long enough to average the noise down (to about a fifth
#: of its RMS at 1 kHz).
BRIDGE_MEMORY_S = 0.02


@dataclass(frozen=True)
class _Fill:
    """What fills one run of lost samples: the level, or a mains cycle repeated in phase."""

    level: float
    cycle: FloatArray | None  # samples [anchor - period, anchor) as bridged
    anchor: int  # stream index the cycle goes on from

    def values(self, first: int, stop: int) -> FloatArray | float:
        """The fill of stream samples ``first .. stop``."""
        if self.cycle is None:
            return self.level
        phase = (np.arange(first, stop) - self.anchor) % len(self.cycle)
        return self.cycle[phase]


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
    held
        Up to this many identical samples just before a run are left out of its fill: the
        start of a stuck stretch, which is marked lost only once it has lasted (see
        :mod:`emg.dsp.stuck`). Filled with the level before it, a channel stuck at a rail
        comes back from that level, not from the rail. 0: none.
    """

    def __init__(
        self, n_channels: int, memory: int, period: int | None = None, held: int = 0
    ) -> None:
        if memory < 1:
            raise ValueError(f"memory must be at least 1 sample, got {memory}")
        if period is not None and not 1 <= period <= memory:
            raise ValueError(f"period must be from 1 to memory ({memory}) samples, got {period}")
        if held < 0:
            raise ValueError(f"held must be at least 0 samples, got {held}")
        self.memory, self.period, self.held = memory, period, held
        # the last received samples of each channel (fewer at the start of a stream), with
        # room for a stuck stretch's start
        self._recent: list[FloatArray] = [np.zeros(0) for _ in range(n_channels)]
        # with a period, each channel's last samples as bridged (received or filled): a fill
        # that repeats a cycle of them stays in phase across gaps and blocks
        self._bridged: list[FloatArray] = [np.zeros(0) for _ in range(n_channels)]
        # the fill of a run that was still going on at the end of the last block
        self._open: list[_Fill | None] = [None] * n_channels
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
        keep = self.memory + self.held
        for c in range(out.shape[1]):
            column = out[:, c]
            if lost is None or not lost[:, c].any():
                self._recent[c] = _tail(self._recent[c], column, keep)
                self._open[c] = None
            else:
                self._bridge_channel(c, column, lost[:, c])
            if self.period is not None:
                self._bridged[c] = _tail(self._bridged[c], column, self.period + self.held)
        self._position += len(out)
        return out

    def _bridge_channel(self, c: int, column: FloatArray, lost: npt.NDArray[np.bool_]) -> None:
        """Fill channel ``c``'s lost runs of this block in place."""
        keep = self.memory + self.held
        edges = np.flatnonzero(np.diff(np.concatenate([[False], lost, [False]]).astype(np.int8)))
        starts, stops = edges[0::2], edges[1::2]
        # the block after the samples before it as bridged: a run's cycle may reach back
        bridged = self._bridged[c]
        extended = np.concatenate([bridged, column])
        history = len(bridged)
        recent, before, fill = self._recent[c], 0, self._open[c]
        for start, stop in zip(starts, stops, strict=True):
            if start > 0 or fill is None:  # a new run, not the last block's going on
                recent = _tail(recent, column[before:start], keep)
                fill = self._fill(recent, extended, history + start, self._position + start)
            extended[history + start : history + stop] = fill.values(
                self._position + start, self._position + stop
            )
            before = stop
        self._open[c] = fill if lost[-1] else None
        column[:] = extended[history:]
        self._recent[c] = _tail(recent, column[before:], keep)

    def _fill(self, received: FloatArray, extended: FloatArray, at: int, stream: int) -> _Fill:
        """The fill of a run starting at ``extended[at]`` (stream index ``stream``), from the
        samples received before it, less a run of identical ones just before it."""
        skip = min(_trailing_repeats(received), self.held, len(received) - 1)
        level_from = received[: len(received) - skip][-self.memory :]
        level = float(np.mean(level_from)) if len(level_from) else 0.0
        cycle = None
        if self.period is not None and at - skip - self.period >= 0:
            cycle = extended[at - skip - self.period : at - skip].copy()
        return _Fill(level, cycle, stream - skip)


def _tail(earlier: FloatArray, later: FloatArray, keep: int) -> FloatArray:
    """The last ``keep`` samples of ``earlier`` followed by ``later`` (a copy)."""
    if len(later) >= keep:
        return later[len(later) - keep :].copy()
    return np.concatenate([earlier[max(len(earlier) - (keep - len(later)), 0) :], later])


def _trailing_repeats(values: FloatArray) -> int:
    """Length of the run of identical values that ends ``values`` (0 below two of them)."""
    if len(values) < 2 or values[-1] != values[-2]:
        return 0
    differ = np.flatnonzero(values != values[-1])
    return len(values) - (int(differ[-1]) + 1 if len(differ) else 0)


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
