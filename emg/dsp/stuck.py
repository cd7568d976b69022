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
them as not recorded, as it does samples lost in transit, which neither count towards a run
nor end it. Each run long enough is told whole once it has ended (:class:`StuckStretch`), as
a live session records it (a ``no-signal`` event) and the summary lists it.
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


class StuckStretch(NamedTuple):
    """A run of identical received samples of one channel long enough to be stuck, whole.

    Attributes
    ----------
    channel
        Channel index.
    start, stop
        Stream indices of its first received sample and one past its last.
    """

    channel: int
    start: int
    stop: int


class StuckRunMarker:
    """Mark, causally, the samples of each channel that continue a run of identical values,
    and tell each run long enough to be stuck once it has ended (:class:`StuckStretch`).

    Samples lost in transit (NaN) are no value received: they neither count towards a run
    nor end it, so a sensor that stays stuck through a few lost packets is one stretch, and a
    dropout is never stuck. The marks and the stretches are the same for any blocking, and
    the stretches those :func:`stuck_runs` finds in the whole stream.

    Parameters
    ----------
    n_channels
        Number of channels.
    min_run
        Identical consecutive received samples from which on a run is stuck (at least 2).
    """

    def __init__(self, n_channels: int, min_run: int) -> None:
        if min_run < 2:
            raise ValueError(f"a stuck run is at least 2 samples, got {min_run}")
        self.min_run = min_run
        self._position = 0
        self._last = np.full(n_channels, np.nan)  # each channel's last received value
        self._run = np.zeros(n_channels, dtype=np.int64)  # received samples of its run
        self._start = np.zeros(n_channels, dtype=np.int64)  # the run's first sample
        self._end = np.zeros(n_channels, dtype=np.int64)  # one past the run's last sample
        #: stuck runs known to have ended in the last block processed (when a different value
        #: was received), in the order they became known
        self.ended: list[StuckStretch] = []

    def process(self, x: npt.NDArray[np.floating[Any]]) -> BoolArray | None:
        """Mark the stuck samples of the next ``(n_samples, n_channels)`` block (NaN: lost);
        the stuck runs that ended in it are in :attr:`ended` afterwards.

        Returns
        -------
        numpy.ndarray or None
            True where a received sample is at least the ``min_run``-th of a run of identical
            values (like ``x``); None when no sample is.
        """
        x = np.asarray(x)
        n, start = len(x), self._position
        self._position += n
        self.ended = []
        if n == 0:
            return None
        received = ~np.isnan(x)
        same = np.empty(x.shape, dtype=bool)
        same[0] = x[0] == self._last
        np.equal(x[1:], x[:-1], out=same[1:])
        if not same.any() and received.all():  # a live signal: every sample begins a run
            self.ended = self.open_stretches()
            self._last = x[-1].astype(np.float64)
            self._run[:] = 1
            self._start[:] = start + n - 1
            self._end[:] = start + n
            return None
        index = np.arange(n)[:, None]
        # the last received value before each sample, and where it was received
        seen = np.maximum.accumulate(np.where(received, index, -1), axis=0)
        value = np.where(seen >= 0, np.take_along_axis(x, np.maximum(seen, 0), axis=0), self._last)
        before = np.empty(x.shape)
        before[0] = self._last
        before[1:] = value[:-1]
        begins = received & ~(x == before)  # a received value unlike the last one received
        counted = np.cumsum(received, axis=0)  # received samples up to each one
        base = np.maximum.accumulate(np.where(begins, counted - 1, -1), axis=0)
        length = np.where(base >= 0, counted - base, self._run + counted)
        # runs that ended where another began: their length and start
        ended_length = np.empty(x.shape, dtype=np.int64)
        ended_length[0] = self._run
        ended_length[1:] = length[:-1]
        began = np.maximum.accumulate(np.where(begins, index, -1), axis=0)
        # in the order they became known (row-major: by sample, then channel)
        for row, channel in zip(*np.nonzero(begins & (ended_length >= self.min_run)), strict=True):
            first = began[row - 1, channel] if row > 0 and began[row - 1, channel] >= 0 else -1
            last = seen[row - 1, channel] if row > 0 and seen[row - 1, channel] >= 0 else -1
            self.ended.append(
                StuckStretch(
                    int(channel),
                    start + int(first) if first >= 0 else int(self._start[channel]),
                    start + int(last) + 1 if last >= 0 else int(self._end[channel]),
                )
            )
        self._last = value[-1].astype(np.float64)
        self._run = length[-1].astype(np.int64)
        self._start = np.where(began[-1] >= 0, start + began[-1], self._start)
        self._end = np.where(seen[-1] >= 0, start + seen[-1] + 1, self._end)
        stuck: BoolArray = received & (length >= self.min_run)
        return stuck if stuck.any() else None

    def open_stretches(self) -> list[StuckStretch]:
        """The stuck runs not ended yet, each up to its last sample so far (what a recording
        stopped now holds of them)."""
        return [
            StuckStretch(int(c), int(self._start[c]), int(self._end[c]))
            for c in np.flatnonzero(self._run >= self.min_run)
        ]

    def flush(self) -> list[StuckStretch]:
        """End of the stream: the stuck runs still open end with their last sample."""
        self.ended = self.open_stretches()
        self._run[:] = 0
        self._last[:] = np.nan
        return self.ended


def stuck_runs(x: npt.NDArray[np.floating[Any]], min_run: int) -> list[tuple[int, int]]:
    """The runs of ``min_run`` or more identical received samples of one channel, whole.

    Parameters
    ----------
    x
        One channel's samples; NaN where one was lost in transit (no value received: it
        neither counts towards a run nor ends it).
    min_run
        Identical consecutive received samples that make a run stuck
        (:func:`stuck_run_samples`).

    Returns
    -------
    list of (start, stop)
        Sample indices of each run's first received sample and one past its last, in order.

    Examples
    --------
    >>> stuck_runs(np.array([1.0, 0, 0, 0, 2, 2, 3]), 3)
    [(1, 4)]
    >>> stuck_runs(np.array([1.0, 0, np.nan, 0, 0, np.nan, 2]), 3)
    [(1, 5)]
    """
    x = np.asarray(x)
    where = np.flatnonzero(~np.isnan(x))
    values = x[where]
    if len(values) == 0:
        return []
    edges = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(values)]])
    long = stops - starts >= min_run
    return [
        (int(where[a]), int(where[b - 1]) + 1)
        for a, b in zip(starts[long], stops[long], strict=True)
    ]
