"""Stretches in which a channel's samples stopped changing: a sensor that froze or went flat.

A sensor whose electrode came off, whose ADC froze or whose firmware repeats its last packet
sends one value over and over (zero, a rail, the last sample) without marking anything lost.
Analysed as signal, such a stretch is a dip of the envelope to nothing (the noise floor then
sinks, and the muscle seems to switch on when the signal comes back) or, at a rail, a step:
a burst that never was. No live muscle does that: surface EMG on skin changes from one sample
to the next even on a coarse converter. Over the real recordings the toolkit is tried on
(12-bit converters at 1 kHz, ``emg.txt`` has 33 distinct values) the longest run of identical
samples is 16 (one glitch of all channels at once), mostly at most 9.

:class:`StuckRunMarker` marks, causally, the samples of each run of identical values from its
:func:`stuck_run_samples`-th sample on: what came before that is not known to be stuck when
it arrives, so any blocking of the stream marks the same samples. The signal chain treats
them as not recorded, as it does samples lost in transit.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]

#: Time a channel's value must stay exactly the same to count as stuck: three times the
#: longest run in the real recordings (9-16 ms at 1 kHz), and short next to a rep's rise.
STUCK_RUN_S = 0.05
#: Fewest identical samples that count as stuck, whatever the sample rate: an 8-bit sensor
#: at 200 Hz (Myo) repeats a value at rest for several samples. Rest noise of SD 0.5 counts,
#: rounded, gave 257 runs of 20 in 2 h and none of 40; of SD 0.4 counts (79 % of the samples
#: zero) 23 runs of 40 in 2 h, and of SD 0.3 counts 2,450: a sensor that coarse at rest is
#: called stuck now and then.
STUCK_RUN_MIN_SAMPLES = 40


def stuck_run_samples(sample_rate: float) -> int:
    """Identical consecutive samples after which a channel counts as stuck.

    Examples
    --------
    >>> stuck_run_samples(2000.0), stuck_run_samples(1000.0), stuck_run_samples(200.0)
    (100, 50, 40)
    """
    return max(math.ceil(STUCK_RUN_S * sample_rate - 1e-9), STUCK_RUN_MIN_SAMPLES)


class StuckRunMarker:
    """Mark, causally, the samples of each channel that continue a run of identical values.

    Parameters
    ----------
    n_channels
        Number of channels.
    min_run
        Identical consecutive samples from which on a run is stuck (at least 2).
    """

    def __init__(self, n_channels: int, min_run: int) -> None:
        if min_run < 2:
            raise ValueError(f"a stuck run is at least 2 samples, got {min_run}")
        self.min_run = min_run
        self._last = np.full(n_channels, np.nan)  # each channel's last sample
        self._run = np.zeros(n_channels, dtype=np.int64)  # identical samples up to it

    def process(self, x: npt.NDArray[np.floating[Any]]) -> BoolArray | None:
        """Mark the stuck samples of the next ``(n_samples, n_channels)`` block.

        Returns
        -------
        numpy.ndarray or None
            True where a sample is at least the ``min_run``-th of a run of identical values
            (like ``x``); None when no sample is.
        """
        x = np.asarray(x)
        n = len(x)
        if n == 0:
            return None
        # same[i]: sample i equals the one before it (a NaN never does)
        same = np.empty(x.shape, dtype=bool)
        same[0] = x[0] == self._last
        np.equal(x[1:], x[:-1], out=same[1:])
        if not same.any():  # a live signal, sampled finely: every sample begins a run
            self._last = x[-1].astype(np.float64)
            self._run[:] = 1
            return None
        index = np.arange(n)[:, None]
        # the last sample at or before i that began a run (-1: the run began before the block)
        began = np.maximum.accumulate(np.where(same, -1, index), axis=0)
        length = np.where(began >= 0, index - began + 1, self._run + index + 1)
        self._last = x[-1].astype(np.float64)
        self._run = length[-1].astype(np.int64)
        stuck: BoolArray = length >= self.min_run
        return stuck if stuck.any() else None


class StuckStretch(NamedTuple):
    """A run of identical samples of one channel long enough to be stuck, whole.

    Attributes
    ----------
    channel
        Channel index.
    start, stop
        Stream indices of its first sample and one past its last.
    """

    channel: int
    start: int
    stop: int


class StuckStretchTracker:
    """The stretches :class:`StuckRunMarker` marks, each once it has ended, whole: from the
    run's first sample (``min_run - 1`` before the first one marked) to its last.

    The same stretches as :func:`stuck_runs` of the whole stream with the samples lost in
    transit as NaN, for any blocking.

    Parameters
    ----------
    n_channels
        Number of channels.
    min_run
        The marker's ``min_run``.
    """

    def __init__(self, n_channels: int, min_run: int) -> None:
        self.min_run = min_run
        self._open = np.full(n_channels, -1, dtype=np.int64)  # each open stretch's start

    def process(self, start: int, n: int, stuck: BoolArray | None) -> list[StuckStretch]:
        """The stretches that ended in the block of stream samples ``start .. start + n``
        whose marks are ``stuck`` (None: none marked), in the order they ended."""
        if stuck is None and not (self._open >= 0).any():  # the usual block: nothing to do
            return []
        ended: list[tuple[int, int, int]] = []  # (stop, channel, start)
        for channel in range(len(self._open)):
            was_open = int(self._open[channel])
            marks = stuck[:, channel] if stuck is not None else np.zeros(0, dtype=bool)
            padded = np.concatenate([[False], marks, [False]]).astype(np.int8)
            edges = np.flatnonzero(np.diff(padded))
            runs = list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
            if was_open >= 0 and (not runs or runs[0][0] > 0):  # ended before the block
                ended.append((start, channel, was_open))
                was_open = -1
            self._open[channel] = -1
            for rise, fall in runs:
                began = start + rise - (self.min_run - 1)  # the run's first sample
                first = was_open if rise == 0 and was_open >= 0 else began
                if fall == n and n > 0:  # still stuck at the block's end
                    self._open[channel] = first
                else:
                    ended.append((start + fall, channel, first))
        return [StuckStretch(c, first, stop) for stop, c, first in sorted(ended)]

    def flush(self, position: int) -> list[StuckStretch]:
        """End of the stream at ``position``: the stretches still open end there."""
        ended = [
            StuckStretch(c, int(first), position)
            for c, first in enumerate(self._open)
            if first >= 0
        ]
        self._open[:] = -1
        return ended


def stuck_runs(x: npt.NDArray[np.floating[Any]], min_run: int) -> list[tuple[int, int]]:
    """The runs of ``min_run`` or more identical samples of one channel, whole.

    Parameters
    ----------
    x
        One channel's samples.
    min_run
        Identical consecutive samples that make a run stuck (:func:`stuck_run_samples`).

    Returns
    -------
    list of (start, stop)
        Sample indices of each run, ``stop`` exclusive, in order.

    Examples
    --------
    >>> stuck_runs(np.array([1.0, 0, 0, 0, 2, 2, 3]), 3)
    [(1, 4)]
    """
    x = np.asarray(x)
    if len(x) == 0:
        return []
    edges = np.flatnonzero(x[1:] != x[:-1]) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(x)]])
    long = stops - starts >= min_run
    return [(int(a), int(b)) for a, b in zip(starts[long], stops[long], strict=True)]
