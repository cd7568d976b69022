"""Baseline (rest) level of an envelope: from an explicit rest period or a robust noise floor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BaselineEstimate:
    """Mean and standard deviation of the envelope at rest, per channel.

    Attributes
    ----------
    mean, std
        Arrays shaped ``(n_channels,)``, in the envelope's unit.
    valid_from
        Stream index from which this estimate applies.
    """

    mean: FloatArray
    std: FloatArray
    valid_from: int


class RestPeriodBaseline:
    """Baseline from an explicit rest period ``[start, stop)`` (stream sample indices).

    Parameters
    ----------
    start, stop
        Rest period in samples from the start of the stream; at least 2 s is recommended.
    n_channels
        Number of channels.
    """

    def __init__(self, start: int, stop: int, n_channels: int) -> None:
        if stop <= start:
            raise ValueError(f"rest period must have positive length, got samples {start}-{stop}")
        self.start, self.stop = start, stop
        self._parts: list[FloatArray] = []
        self._position = 0
        self._estimate: BaselineEstimate | None = None
        self.n_channels = n_channels

    @property
    def ready_at(self) -> int:
        """Stream index at which the first estimate becomes available."""
        return self.stop

    def process(self, envelope: FloatArray) -> list[BaselineEstimate]:
        """Consume an envelope block; return the estimate once the rest period has passed."""
        begin = self._position
        self._position += len(envelope)
        if self._estimate is not None:
            return []
        lo, hi = max(self.start - begin, 0), min(self.stop - begin, len(envelope))
        if hi > lo:
            self._parts.append(envelope[lo:hi])
        if self._position < self.stop:
            return []
        rest = np.concatenate(self._parts)
        self._parts = []
        self._estimate = BaselineEstimate(rest.mean(axis=0), rest.std(axis=0), self.stop)
        return [self._estimate]


class NoiseFloorBaseline:
    """Robust noise-floor estimate when no rest period is given.

    The envelope is cut into consecutive windows (fixed stream positions). The quietest
    ``quantile`` of the windows of the last ``horizon`` samples (at least ``min_windows`` of
    them) give a rough rest level and within-window SD; every window whose mean lies within
    that level + 2 SD is taken as rest, and the estimate is the mean and pooled standard
    deviation of those windows (the quietest windows alone would understate the noise). The
    first estimate comes at the first window end at or after ``warmup`` and is updated every
    ``update`` samples, so it follows slow changes of the electrode noise but not the bursts.

    Parameters
    ----------
    window
        Window length in samples (e.g. 0.25 s).
    warmup
        Samples before the first estimate (e.g. 2 s).
    horizon
        Only windows ending within this many samples count (e.g. 60 s).
    n_channels
        Number of channels.
    quantile
        Fraction of the windows, the quietest ones, pooled into the estimate.
    min_windows
        Pool at least this many windows.
    update
        Samples between updates of the estimate after the first (default: 4 windows).
    ignore_before
        Windows that start before this stream index (filters settling) are not used.
    """

    def __init__(
        self,
        window: int,
        warmup: int,
        horizon: int,
        n_channels: int,
        quantile: float = 0.2,
        min_windows: int = 3,
        update: int | None = None,
        ignore_before: int = 0,
    ) -> None:
        if warmup - ignore_before < window * min_windows:
            raise ValueError("the warm-up must hold at least min_windows baseline windows")
        update = 4 * window if update is None else update
        if update < window or update % window:
            raise ValueError("the baseline update interval must be a multiple of its window")
        self.window, self.warmup, self.horizon = window, warmup, horizon
        self.quantile, self.min_windows = quantile, min_windows
        self.n_channels = n_channels
        self.update = update
        self.ignore_before = ignore_before
        self._windows_done = 0
        self._pending = np.zeros((0, n_channels))
        self._means = np.zeros((0, n_channels))
        self._vars = np.zeros((0, n_channels))
        self._ends = np.zeros(0, dtype=np.int64)

    @property
    def ready_at(self) -> int:
        """Stream index at which the first estimate becomes available."""
        return -(-self.warmup // self.window) * self.window

    def process(self, envelope: FloatArray) -> list[BaselineEstimate]:
        """Consume an envelope block; return every estimate that became valid in it."""
        pending = np.concatenate([self._pending, envelope]) if len(self._pending) else envelope
        n_windows = len(pending) // self.window
        self._pending = pending[n_windows * self.window :].copy()
        if n_windows == 0:
            return []
        first_end = self._windows_done * self.window + self.window
        windows = pending[: n_windows * self.window].reshape(n_windows, self.window, -1)
        means = windows.sum(axis=1) / self.window
        variances = np.maximum((windows * windows).sum(axis=1) / self.window - means**2, 0.0)
        ends = first_end + self.window * np.arange(n_windows)
        used = ends - self.window >= self.ignore_before
        self._windows_done += n_windows
        self._means = np.concatenate([self._means, means[used]])
        self._vars = np.concatenate([self._vars, variances[used]])
        self._ends = np.concatenate([self._ends, ends[used]])
        ready_at = self.ready_at
        estimates = []
        for end in ends[(ends >= ready_at) & ((ends - ready_at) % self.update == 0)]:
            # windows that ended by `end` and within the horizon
            keep = np.flatnonzero((self._ends <= end) & (self._ends > end - self.horizon))
            estimates.append(self._estimate(self._means[keep], self._vars[keep], int(end)))
        horizon_start = ends[-1] - self.horizon
        first_kept = int(np.searchsorted(self._ends, horizon_start, side="right"))
        self._means, self._vars = self._means[first_kept:], self._vars[first_kept:]
        self._ends = self._ends[first_kept:]
        return estimates

    def _estimate(
        self, means: FloatArray, variances: FloatArray, valid_from: int
    ) -> BaselineEstimate:
        count = max(self.min_windows, int(np.ceil(self.quantile * len(means))))
        count = min(count, len(means))
        quietest = np.argsort(means, axis=0, kind="stable")[:count]  # per channel
        # rough rest level: the quietest windows, with their typical within-window spread
        rough_mean = np.take_along_axis(means, quietest, axis=0).mean(axis=0)
        rough_std = np.sqrt(np.take_along_axis(variances, quietest, axis=0).mean(axis=0))
        # The quietest windows understate the noise (they were picked for being low); pool
        # every window that holds no activity instead: mean within rough mean + 2 SD.
        rest = means <= rough_mean + 2 * rough_std
        counts = rest.sum(axis=0)
        mean = (means * rest).sum(axis=0) / counts
        spread = ((means - mean) ** 2 * rest).sum(axis=0) / counts
        std = np.sqrt((variances * rest).sum(axis=0) / counts + spread)
        return BaselineEstimate(mean, std, valid_from)
