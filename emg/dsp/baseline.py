"""Baseline (rest) level of an envelope: from an explicit rest period or a robust noise floor."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from emg.dsp.reductions import sample_sums_and_squares

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

    def process(
        self, envelope: FloatArray, lost: npt.NDArray[np.bool_] | None = None
    ) -> list[BaselineEstimate]:
        """Consume an envelope block; return the estimate once the rest period has passed.

        The rest period is the user's choice: samples lost in it (``lost``) are not left out.
        """
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

    def process_rows(self, envelope: FloatArray) -> list[BaselineEstimate]:
        """As :meth:`process`, for a channel-major block ``(n_channels, n_samples)``."""
        if self._estimate is not None or self._position + envelope.shape[1] <= self.start:
            self._position += envelope.shape[1]
            return []
        # sample-major and C-ordered, as the rest statistics are defined on it
        return self.process(np.ascontiguousarray(envelope.T))


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
    guard
        Samples after a lost one (zero-filled in transit) in which the envelope still holds the
        gap. A window more than a quarter of whose samples are lost or within ``guard`` after a
        lost sample is not used for that channel (the other channels keep it): a gap of zeros
        would otherwise be the quietest stretch of all and pull the rest level, hence the onset
        threshold, down to nothing. A single lost packet of a few ms only dents a window, and
        it stays.
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
        guard: int = 0,
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
        self.guard = guard
        # stream index of the last lost sample seen, per channel
        self._last_lost = np.full(n_channels, -(2**62), dtype=np.int64)
        self._position = 0
        # samples of the window being filled near a lost one, per channel
        self._partial_tainted = np.zeros(n_channels, dtype=np.int64)
        self._windows_done = 0
        self._partial = np.zeros((window, n_channels))  # the window being filled
        self._filled = 0
        # statistics of the windows within the horizon, window-major (n_windows, c)
        self._means = np.zeros((0, n_channels))
        self._vars = np.zeros((0, n_channels))
        self._ends = np.zeros(0, dtype=np.int64)

    @property
    def ready_at(self) -> int:
        """Stream index at which the first estimate becomes available."""
        return -(-self.warmup // self.window) * self.window

    def process(
        self, envelope: FloatArray, lost: npt.NDArray[np.bool_] | None = None
    ) -> list[BaselineEstimate]:
        """Consume an envelope block; return every estimate that became valid in it.

        Parameters
        ----------
        envelope
            float64 envelope ``(n_samples, n_channels)``.
        lost
            Samples lost in transit, ``(n_samples, n_channels)`` or per sample (any channel).

        Returns
        -------
        list of BaselineEstimate
            Estimates due in this block, in time order.
        """
        envelope = np.asarray(envelope, dtype=np.float64)
        n, w = envelope.shape[0], self.window
        tainted = self._tainted(lost, n)
        take = min(w - self._filled, n)
        self._partial[self._filled : self._filled + take] = envelope[:take]
        self._filled += take
        n_full = (n - take) // w
        rest = n - take - n_full * w
        if tainted is not None:
            self._partial_tainted += np.count_nonzero(tainted[:take], axis=0)
        if self._filled < w:
            return []
        counts = None
        if tainted is not None or self._partial_tainted.any():
            counts = np.zeros((1 + n_full, self.n_channels), dtype=np.int64)
            counts[0] = self._partial_tainted
            if tainted is not None and n_full:
                body_tainted = tainted[take : take + n_full * w].reshape(n_full, w, -1)
                counts[1:] = np.count_nonzero(body_tainted, axis=1)
        if tainted is not None and rest:
            self._partial_tainted = np.count_nonzero(tainted[n - rest :], axis=0)
        else:
            self._partial_tainted = np.zeros(self.n_channels, dtype=np.int64)
        parts = [_window_stats(self._partial[None])]
        if n_full:
            body = np.ascontiguousarray(envelope[take : take + n_full * w])
            parts.append(_window_stats(body.reshape(n_full, w, self.n_channels)))
        self._partial[:rest] = envelope[n - rest :]
        self._filled = rest
        if len(parts) == 1:
            means, variances = parts[0]
        else:
            means = np.concatenate([p[0] for p in parts])
            variances = np.concatenate([p[1] for p in parts])
        return self._add_windows(means, variances, counts)

    def process_rows(self, envelope: FloatArray) -> list[BaselineEstimate]:
        """As :meth:`process`, for a channel-major block ``(n_channels, n_samples)``."""
        return self.process(envelope.T)

    def _tainted(self, lost: npt.NDArray[np.bool_] | None, n: int) -> npt.NDArray[np.bool_] | None:
        """Per sample and channel of this block ``(n, c)``: lost, or within ``guard`` after a
        lost sample (None when there is none near)."""
        start, self._position = self._position, self._position + n
        if not n:
            return None
        if lost is None:  # none lost here; a gap just before may still be in the envelope
            if (self._last_lost < start - self.guard).all():
                return None
            flags = np.zeros((n, self.n_channels), dtype=bool)
        else:
            flags = np.asarray(lost, dtype=bool)
        if flags.ndim == 1:  # per sample: every channel
            flags = np.broadcast_to(flags[:, None], (n, self.n_channels))
        if not flags.any() and (self._last_lost < start - self.guard).all():
            return None
        index = start + np.arange(n)[:, None]
        last_lost = np.maximum.accumulate(np.where(flags, index, self._last_lost), axis=0)
        self._last_lost = last_lost[-1].copy()
        tainted: npt.NDArray[np.bool_] = index - last_lost <= self.guard
        return tainted

    def _add_windows(
        self,
        means: FloatArray,
        variances: FloatArray,
        tainted: npt.NDArray[np.int64] | None = None,
    ) -> list[BaselineEstimate]:
        """Take in window statistics ``(n_windows, c)`` (and, per window and channel, how many
        of its samples are near a lost one); return due estimates.

        A window not used for a channel holds NaN there; one used for no channel is dropped.
        """
        n_windows = len(means)
        first_end = self._windows_done * self.window + self.window
        ends = first_end + self.window * np.arange(n_windows)
        self._windows_done += n_windows
        # windows that start before `ignore_before` are not used (they are the first ones),
        # nor those that hold a lost sample or follow one within the guard
        use = ends - self.window >= self.ignore_before
        if tainted is not None:
            unusable = tainted * 4 > self.window
            use &= ~unusable.all(axis=1)
            if unusable.any():
                means, variances = means.copy(), variances.copy()
                means[unusable] = np.nan
                variances[unusable] = np.nan
        self._means = np.concatenate([self._means, means[use]])
        self._vars = np.concatenate([self._vars, variances[use]])
        self._ends = np.concatenate([self._ends, ends[use]])
        ready_at = self.ready_at
        due = ends[(ends >= ready_at) & ((ends - ready_at) % self.update == 0)]
        estimates = self._estimates(due) if len(due) else []
        horizon_start = ends[-1] - self.horizon
        first_kept = int(np.searchsorted(self._ends, horizon_start, side="right"))
        if first_kept:
            self._means, self._vars = self._means[first_kept:], self._vars[first_kept:]
            self._ends = self._ends[first_kept:]
        return estimates

    def _estimates(self, due: npt.NDArray[np.int64]) -> list[BaselineEstimate]:
        """Estimates valid from each of ``due``, from the windows ended by then (in horizon)."""
        # windows that ended by `end` and within the horizon: a contiguous run of the ends
        firsts = np.searchsorted(self._ends, due - self.horizon, side="right")
        sizes = np.searchsorted(self._ends, due, side="right") - firsts
        # windows each set may use per channel (the others hold NaN there)
        usable_so_far = np.zeros((len(self._means) + 1, self.n_channels), dtype=np.intp)
        np.cumsum(~np.isnan(self._means), axis=0, out=usable_so_far[1:])
        usable = usable_so_far[firsts + sizes] - usable_so_far[firsts]
        ends = due.tolist()
        # estimates worked out together: all of them with several channels (their sums add one
        # window after the other, and the padding of smaller sets adds only zeros), those of
        # one size and one number of usable windows with a single channel (pairwise sums,
        # which padding would change)
        if self.n_channels > 1:
            change = (sizes[1:] > 0) != (sizes[:-1] > 0)
        else:
            change = (sizes[1:] != sizes[:-1]) | (usable[1:, 0] != usable[:-1, 0])
        breaks = [0, *(np.flatnonzero(change) + 1).tolist(), len(ends)]
        estimates: list[BaselineEstimate] = []
        for i, j in itertools.pairwise(breaks):
            if sizes[i] == 0:
                empty = np.zeros((0, self.n_channels))
                estimates.extend(self._estimate(empty, empty, end) for end in ends[i:j])
            else:
                mean, std = self._pooled(firsts[i:j], sizes[i:j], usable[i:j])
                estimates.extend(
                    BaselineEstimate(mean[k], std[k], end) for k, end in enumerate(ends[i:j])
                )
        return estimates

    def _pooled(
        self,
        firsts: npt.NDArray[np.intp],
        sizes: npt.NDArray[np.intp],
        usable: npt.NDArray[np.intp],
    ) -> tuple[FloatArray, FloatArray]:
        """:meth:`_estimate` of the windows ``first .. first + size`` for each set.

        Parameters
        ----------
        firsts, sizes
            First window (index into the held statistics) and number of windows of each set;
            all sizes equal with a single channel.
        usable
            Windows of each set not lost per channel, ``(n_sets, c)``; all equal with a single
            channel.

        Returns
        -------
        mean, std : ndarray
            Per set and channel, ``(n_sets, c)``, rounded exactly as :meth:`_estimate` on each
            set's sample-major statistics.
        """
        n_channels = self.n_channels
        counts_quiet = np.minimum(
            np.maximum(self.min_windows, np.ceil(self.quantile * usable).astype(np.intp)), usable
        )  # (n_sets, c)
        lo, hi = int(firsts[0]), int((firsts + sizes).max())
        n_all = hi - lo
        # the statistics of these windows (means, variances) and a zero window after them, which
        # pads sets smaller than the largest
        stats = np.zeros((2, n_all + 1, n_channels))
        stats[0, :n_all], stats[1, :n_all] = self._means[lo:hi], self._vars[lo:hi]
        steps = np.arange(int(sizes.max()))
        inside = steps[:, None] < sizes[None, :]
        windows = np.where(inside, (firsts - lo)[None, :] + steps[:, None], n_all)
        means, variances = np.take(stats, windows, axis=1)  # (longest, n_sets, c) each
        # one stable sort of all windows; each set's own order is the same order restricted
        # to its members (ties stay in window order), so a window's rank in it orders the
        # windows of any set, and the `count` lowest ranks of a set are its quietest windows
        order = np.argsort(stats[0, :n_all], axis=0, kind="stable")
        rank = np.empty((n_channels, n_all + 1), dtype=np.intp)
        rank[:, n_all] = n_all  # the padding ranks after every window
        positions = np.arange(n_all)
        for channel in range(n_channels):
            rank[channel, order[:, channel]] = positions
        # (windows lost on a channel hold NaN there: they sort, hence rank, after the others)
        count = max(1, int(counts_quiet.max()))
        quiet = np.partition(np.take(rank, windows.T, axis=1), count - 1, axis=2)[:, :, :count]
        quiet.sort(axis=2)  # (c, n_sets, count): ranks of each set's quietest windows, in order
        quiet[np.arange(count)[None, None, :] >= counts_quiet.T[:, :, None]] = n_all
        # the statistics by rank (and zero for the padding), picked by the quietest ranks
        by_rank = np.zeros((2, n_channels, n_all + 1))
        flat_order = (order * n_channels + np.arange(n_channels)).T  # into a (n_all, c) array
        by_rank[0, :, :n_all] = np.take(stats[0, :n_all], flat_order)
        by_rank[1, :, :n_all] = np.take(stats[1, :n_all], flat_order)
        picks = quiet + (np.arange(n_channels) * (n_all + 1))[:, None, None]
        quiet_means = np.take(by_rank[0], picks).T  # (count, n_sets, c)
        quiet_vars = np.take(by_rank[1], picks).T
        with np.errstate(invalid="ignore", divide="ignore"):  # a channel with no window: NaN
            rough_mean = _set_sums(quiet_means) / counts_quiet
            rough_std = np.sqrt(_set_sums(quiet_vars) / counts_quiet)
            rest = means <= (rough_mean + 2 * rough_std)[None]  # never a lost (NaN) window
            if not inside.all():
                rest &= inside[:, :, None]
            counts = rest.sum(axis=0)
            mean = _set_sums(np.where(rest, means, 0.0)) / counts
            spread = _set_sums(np.where(rest, (means - mean[None]) ** 2, 0.0)) / counts
            std = np.sqrt(_set_sums(np.where(rest, variances, 0.0)) / counts + spread)
        return mean, std

    def _estimate(
        self, means: FloatArray, variances: FloatArray, valid_from: int
    ) -> BaselineEstimate:
        if not len(means):  # no usable window yet (all lost, or none in the horizon)
            nothing = np.full(self.n_channels, np.nan)
            return BaselineEstimate(nothing, nothing.copy(), valid_from)
        # per channel: the windows it may use (NaN: lost there), the quietest of them
        usable = (~np.isnan(means)).sum(axis=0)
        count = np.minimum(
            np.maximum(self.min_windows, np.ceil(self.quantile * usable).astype(np.int64)),
            usable,
        )
        quietest = np.argsort(means, axis=0, kind="stable")[: int(count.max())]  # NaN last
        picked = np.arange(len(quietest))[:, None] < count[None, :]
        # rough rest level: the quietest windows, with their typical within-window spread
        with np.errstate(invalid="ignore", divide="ignore"):
            quiet_means = np.where(picked, np.take_along_axis(means, quietest, axis=0), 0.0)
            quiet_vars = np.where(picked, np.take_along_axis(variances, quietest, axis=0), 0.0)
            rough_mean = quiet_means.sum(axis=0) / count
            rough_std = np.sqrt(quiet_vars.sum(axis=0) / count)
            # The quietest windows understate the noise (they were picked for being low); pool
            # every window that holds no activity instead: mean within rough mean + 2 SD.
            rest = means <= rough_mean + 2 * rough_std
            counts = rest.sum(axis=0)
            mean = np.where(rest, means, 0.0).sum(axis=0) / counts
            spread = np.where(rest, (means - mean) ** 2, 0.0).sum(axis=0) / counts
            std = np.sqrt(np.where(rest, variances, 0.0).sum(axis=0) / counts + spread)
        return BaselineEstimate(mean, std, valid_from)


def _set_sums(values: FloatArray) -> FloatArray:
    """Sums over the windows of ``(n_windows, n_sets, c)``, as ``(n_sets, c)``.

    Rounded as the sums over each set's sample-major statistics ``(n_windows, c)``: one window
    after the other with several channels, pairwise with one (see :mod:`emg.dsp.reductions`).
    """
    n_windows, n_sets, n_channels = values.shape
    if n_channels == 1:
        single: FloatArray = np.ascontiguousarray(values[:, :, 0].T).sum(axis=1)
        return single[:, None]
    by_window = np.ascontiguousarray(values).reshape(n_windows, n_sets * n_channels)
    sums: FloatArray = by_window.sum(axis=0).reshape(n_sets, n_channels)
    return sums


def _window_stats(windows: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and variance of each window of ``(n_windows, window, c)``, as ``(n_windows, c)``.

    Rounded as the sums over a sample-major envelope (see :mod:`emg.dsp.reductions`).
    """
    w = windows.shape[1]
    sums, squares = sample_sums_and_squares(windows)
    means = sums / w
    variances = np.maximum(squares / w - means**2, 0.0)
    return means, variances
