"""Host times of a sensor's samples, from packet arrival times: a lower-envelope clock fit.

A BLE sensor stamps nothing the host can trust directly: the host only sees when each packet
*arrives*. The arrival of a packet is later than the true time of its last sample by a delay
that is always positive, usually a few ms (waiting for the next connection event, the radio,
the Bluetooth stack, the event loop), and sometimes tens of ms (retransmissions, the stack
holding several packets back and handing them over in a burst).

Model and assumptions
---------------------
- The sensor samples on its own crystal: sample ``i`` happens at host time
  ``t(i) = a + b * x(i)``, a straight line in ``x`` over the fit's history (tens of seconds),
  where ``x(i) = i / nominal_rate`` or, when the packets carry device timestamps, the device
  time of sample ``i``. The slope ``b`` is the crystal's error: within ``max_drift_ppm`` of 1.
  The host monotonic clock is the reference; slow changes of ``b`` (temperature) are followed
  because the fit only sees the last ``history_s`` seconds.
- ``arrival >= t(last sample of the packet)``: a packet never arrives before its last sample
  was taken. So every observation lies on or *above* the true line, and the line is the
  **lower envelope** of the observations.
- Among many packets some arrive with almost no delay (the shortest delay of the radio link:
  the next connection event came right after the packet was filled). That fixed minimum
  delay cannot be told apart from a clock offset: the estimate is late by it. It is the same
  for sensors on the same host and radio settings, so it cancels when two muscles' onsets are
  compared.

Why not least squares
---------------------
A least-squares line through arrival times (as in LSL's dejitter filter, a recursive least
squares fit) sits above the true line by the *mean* delay, and BLE delay bursts make that mean
wander, differently for each sensor. Here the line is the one Moon, Skelly and Towsley (1999,
"Estimation and removal of clock skew from network delay measurements", IEEE INFOCOM) proposed
for one-way delays: the line that lies below every observation and is as close to them as
possible (minimal sum of vertical distances). That linear programme is solved exactly on the
lower convex hull of the points (Zhang, Liu and Xia 2002): the optimum is the hull edge that
spans the mean ``x`` of the points. Delay bursts (points far above) never move it; only the
least-delayed packets matter.

Bounded memory: arrivals are grouped into windows of ``window_s`` seconds, and each window
keeps only its least-delayed packet (the others cannot be on the lower hull, up to the tiny
slope difference inside one window). The fit keeps the windows of the last ``history_s``
seconds. The slope is limited to ``1 ± max_drift_ppm``: with little history (the first
second) the hull's slope is noisy, and a crystal is never worse than a few hundred ppm.

With device timestamps (``device_time``), ``x`` is the device time of a sample, interpolated
between the packets' timestamps (as Polar's PMD frames are read): the timestamps give the
*shape* of the timeline (a sensor that pauses or samples irregularly), the arrival fit gives
the offset to the host clock and the device clock's rate against the host's. Set
``max_drift_ppm=0`` to trust the device clock's rate fully and take only the offset from the
arrivals.

Limits: a clock step (a sensor that restarts its counter without telling, a host suspend)
breaks the line model; the caller must :meth:`SampleClock.reset` on a reconnect. Points
*below* the true line (impossible if arrival times are taken on receipt) would pull the
envelope down.
"""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Largest crystal error the clock fit believes by default, in ppm: a sensor's crystal is
#: within a few hundred ppm; the fit's slope is limited to ``1 +- MAX_DRIFT_PPM * 1e-6``.
MAX_DRIFT_PPM = 1000.0
#: Closed windows needed before :attr:`SampleClock.offset_uncertainty` is given.
MIN_WINDOWS_FOR_UNCERTAINTY = 4


class _IndexTimeline:
    """``x`` of a sample without device timestamps: its index at the nominal rate."""

    def __init__(self, nominal_rate: float) -> None:
        self.nominal_rate = nominal_rate

    def add(self, index: int, device_time: float | None) -> None:
        """Nothing to learn (device timestamps are ignored in this mode)."""

    @property
    def period(self) -> float:
        """``x`` units per sample."""
        return 1.0 / self.nominal_rate

    def x_of(self, index: FloatArray) -> FloatArray:
        """``x`` of sample indices."""
        return np.asarray(index, dtype=np.float64) / self.nominal_rate

    def index_of(self, x: FloatArray) -> FloatArray:
        """Inverse of :meth:`x_of`."""
        return np.asarray(x, dtype=np.float64) * self.nominal_rate


class _DeviceTimeline:
    """``x`` of a sample from device timestamps: piecewise linear between packets.

    Keeps the last ``max_anchors`` (first index, device time) pairs; outside them it extrapolates
    with the device period measured over all of them.
    """

    def __init__(self, nominal_rate: float, max_anchors: int) -> None:
        self.nominal_rate = nominal_rate
        self._index: deque[float] = deque(maxlen=max_anchors)
        self._time: deque[float] = deque(maxlen=max_anchors)
        self._arrays: tuple[FloatArray, FloatArray] | None = None
        self.rejected = 0

    def add(self, index: int, device_time: float | None) -> None:
        """Learn one packet's timestamp; a timestamp going backwards is counted and ignored."""
        if device_time is None or not math.isfinite(device_time):
            return
        if self._index and (index <= self._index[-1] or device_time <= self._time[-1]):
            self.rejected += 1
            return
        self._index.append(float(index))
        self._time.append(float(device_time))
        self._arrays = None

    @property
    def period(self) -> float:
        """Device seconds per sample, over the anchors kept."""
        if len(self._index) < 2:
            return 1.0 / self.nominal_rate
        return (self._time[-1] - self._time[0]) / (self._index[-1] - self._index[0])

    def _anchors(self) -> tuple[FloatArray, FloatArray]:
        if self._arrays is None:
            self._arrays = (np.array(self._index), np.array(self._time))
        return self._arrays

    def x_of(self, index: FloatArray) -> FloatArray:
        """Device time of sample indices."""
        index = np.asarray(index, dtype=np.float64)
        anchor_index, anchor_time = self._anchors()
        if anchor_index.size == 0:
            return index * self.period
        inside = np.interp(index, anchor_index, anchor_time)
        before = anchor_time[0] + (index - anchor_index[0]) * self.period
        after = anchor_time[-1] + (index - anchor_index[-1]) * self.period
        return np.where(
            index < anchor_index[0], before, np.where(index > anchor_index[-1], after, inside)
        )

    def index_of(self, x: FloatArray) -> FloatArray:
        """Inverse of :meth:`x_of`."""
        x = np.asarray(x, dtype=np.float64)
        anchor_index, anchor_time = self._anchors()
        if anchor_index.size == 0:
            return x / self.period
        inside = np.interp(x, anchor_time, anchor_index)
        before = anchor_index[0] + (x - anchor_time[0]) / self.period
        after = anchor_index[-1] + (x - anchor_time[-1]) / self.period
        return np.where(x < anchor_time[0], before, np.where(x > anchor_time[-1], after, inside))


def lower_hull(x: FloatArray, y: FloatArray) -> list[int]:
    """Indices of the lower convex hull of points sorted by ``x`` (Andrew's monotone chain).

    Parameters
    ----------
    x, y
        Coordinates, ``x`` non-decreasing.

    Returns
    -------
    list of int
        Hull vertices from left to right.
    """
    hull: list[int] = []
    for j in range(x.size):
        if hull and x[j] == x[hull[-1]]:
            if y[j] >= y[hull[-1]]:
                continue
            hull.pop()
        while len(hull) >= 2 and _turns_clockwise(x, y, hull[-2], hull[-1], j):
            hull.pop()
        hull.append(j)
    return hull


def _turns_clockwise(x: FloatArray, y: FloatArray, a: int, b: int, c: int) -> bool:
    """Whether ``b`` lies on or above the segment ``a``–``c`` (so it is not a lower-hull vertex)."""
    cross = (x[b] - x[a]) * (y[c] - y[a]) - (y[b] - y[a]) * (x[c] - x[a])
    return bool(cross <= 0.0)


def optimal_slopes(x: FloatArray, y: FloatArray, at: float) -> tuple[float, float]:
    """Slopes of the lines below all points that are highest at ``x = at``.

    The objective ``min_j (y_j - s (x_j - at))`` is concave in ``s``; its maximum is the
    slope of the lower-hull edge spanning ``at``, or, when ``at`` is a hull vertex, any slope
    between its two edges' slopes.

    Returns
    -------
    tuple of float
        The interval ``(lowest, highest)`` of optimal slopes (infinite ends when open).
    """
    hull = lower_hull(x, y)
    low, high = -math.inf, math.inf
    for a, b in itertools.pairwise(hull):
        slope = float((y[b] - y[a]) / (x[b] - x[a]))
        if x[b] <= at:
            low = slope
        elif x[a] >= at:
            high = min(high, slope)
            break
        else:
            return slope, slope
    return low, high


class SampleClock:
    """Running estimate of the host time of every sample of one sensor stream.

    Parameters
    ----------
    nominal_rate
        Samples per second the sensor is meant to deliver.
    window_s
        Arrivals are grouped in windows this long; each keeps its least-delayed packet.
    history_s
        Windows older than this are forgotten (bounded memory, follows slow drift changes).
    max_drift_ppm
        Largest crystal error believed, in parts per million (the slope's limit).
    prior_rate
        Actual rate to assume before the fit can tell (e.g. from before a reconnect).

    Notes
    -----
    Feed every packet to :meth:`update`, in arrival order; ask :meth:`time_of` or
    :meth:`index_at` at any time after the first packet. The module docstring states the
    model and its assumptions.
    """

    def __init__(
        self,
        nominal_rate: float,
        *,
        window_s: float = 0.25,
        history_s: float = 60.0,
        max_drift_ppm: float = MAX_DRIFT_PPM,
        prior_rate: float | None = None,
    ) -> None:
        if nominal_rate <= 0 or window_s <= 0 or history_s < window_s or max_drift_ppm < 0:
            raise ValueError("nominal_rate, window_s, history_s and max_drift_ppm out of range")
        self.nominal_rate = float(nominal_rate)
        self.window_s, self.history_s = float(window_s), float(history_s)
        self.max_drift = max_drift_ppm * 1e-6
        self._clear(prior_rate)

    def _clear(self, prior_rate: float | None) -> None:
        """Start afresh (no packet seen)."""
        self._prior_rate = prior_rate
        maxlen = math.ceil(self.history_s / self.window_s)
        self._windows: deque[tuple[float, float]] = deque(maxlen=maxlen)
        self._timeline: _IndexTimeline | _DeviceTimeline | None = None
        self._window_number = 0
        self._current: tuple[float, float] | None = None
        self._origin = (0.0, 0.0)
        self._slope, self._intercept = 1.0, 0.0
        self.n_packets = 0
        self.first_arrival = math.nan
        self.last_arrival = math.nan

    # ------------------------------------------------------------------ feeding

    def update(
        self, first_index: int, n_samples: int, arrival: float, device_time: float | None = None
    ) -> None:
        """Learn from one packet.

        Parameters
        ----------
        first_index
            Index of the packet's first sample, counted from the stream start including
            lost samples.
        n_samples
            Samples (per channel) in the packet; at least 1.
        arrival
            Host monotonic time the packet arrived, in seconds.
        device_time
            Device-clock time of the first sample, if the protocol sends one. The first
            packet decides the mode: with timestamps or without.
        """
        if n_samples < 1:
            raise ValueError(f"a packet needs at least one sample, got {n_samples}")
        timeline = self._timeline_for(device_time)
        timeline.add(first_index, device_time)
        last_x = float(timeline.x_of(np.array([first_index + n_samples - 1.0]))[0])
        if self.n_packets == 0:
            self._start(last_x, arrival)
        self.n_packets += 1
        self.last_arrival = arrival
        if self._observe(last_x - self._origin[0], arrival - self._origin[1]):
            self._refit()

    def _timeline_for(self, device_time: float | None) -> _IndexTimeline | _DeviceTimeline:
        if self._timeline is None:
            if device_time is None:
                self._timeline = _IndexTimeline(self.nominal_rate)
            else:
                self._timeline = _DeviceTimeline(self.nominal_rate, max_anchors=1024)
        return self._timeline

    def _start(self, x: float, arrival: float) -> None:
        self._origin = (x, arrival)
        self.first_arrival = arrival
        timeline = self._timeline
        assert timeline is not None
        if self._prior_rate is not None:
            slope = 1.0 / (self._prior_rate * timeline.period)
            self._slope = min(max(slope, 1.0 - self.max_drift), 1.0 + self.max_drift)

    def _observe(self, x: float, y: float) -> bool:
        """Put a point in its window; whether the lower envelope may have changed."""
        number = math.floor(y / self.window_s)
        if self._current is None or number > self._window_number:
            if self._current is not None:
                self._windows.append(self._current)
            self._current, self._window_number = (x, y), number
            return True
        if y - self._slope * x < self._current[1] - self._slope * self._current[0]:
            self._current = (x, y)
            return True
        return False

    def _points(self) -> tuple[FloatArray, FloatArray]:
        points = [*self._windows, *([self._current] if self._current is not None else [])]
        array = np.array(points, dtype=np.float64).reshape(-1, 2)
        array = array[np.argsort(array[:, 0], kind="stable")]
        return array[:, 0], array[:, 1]

    def _refit(self) -> None:
        x, y = self._points()
        low, high = optimal_slopes(x, y, float(np.mean(x)))
        self._slope = self._limited_slope(low, high)
        self._intercept = float(np.min(y - self._slope * x))

    def _limited_slope(self, low: float, high: float) -> float:
        """The optimal slope nearest the current one, within the drift limit."""
        low_limit, high_limit = 1.0 - self.max_drift, 1.0 + self.max_drift
        low, high = max(low, low_limit), min(high, high_limit)
        if low > high:
            return high_limit if low > high_limit else low_limit
        return min(max(self._slope, low), high)

    # ------------------------------------------------------------------ asking

    @property
    def ready(self) -> bool:
        """Whether a packet has been seen (estimates are available)."""
        return self.n_packets > 0

    def _require(self) -> _IndexTimeline | _DeviceTimeline:
        if self._timeline is None or not self.ready:
            raise RuntimeError("the sample clock has not seen a packet yet")
        return self._timeline

    def times_of(self, indices: npt.ArrayLike) -> FloatArray:
        """Host monotonic times of (possibly fractional) sample indices.

        Raises
        ------
        RuntimeError
            Before the first packet.
        """
        timeline = self._require()
        x = timeline.x_of(np.asarray(indices, dtype=np.float64)) - self._origin[0]
        return self._origin[1] + self._intercept + self._slope * x

    def time_of(self, index: float) -> float:
        """Host monotonic time of a (possibly fractional) sample index."""
        return float(self.times_of(np.array([index]))[0])

    def indices_at(self, times: npt.ArrayLike) -> FloatArray:
        """Fractional sample indices at host monotonic times (inverse of :meth:`times_of`)."""
        timeline = self._require()
        x = (np.asarray(times, dtype=np.float64) - self._origin[1] - self._intercept) / self._slope
        return timeline.index_of(x + self._origin[0])

    def index_at(self, time: float) -> float:
        """Fractional sample index at a host monotonic time."""
        return float(self.indices_at(np.array([time]))[0])

    @property
    def rate(self) -> float:
        """Estimated actual samples per host second."""
        period = self._timeline.period if self._timeline is not None else 1 / self.nominal_rate
        return 1.0 / (self._slope * period)

    @property
    def drift_ppm(self) -> float:
        """Estimated rate error against the nominal rate, in parts per million."""
        return (self.rate / self.nominal_rate - 1.0) * 1e6

    @property
    def span_s(self) -> float:
        """Host seconds between the first and the last packet seen."""
        return self.last_arrival - self.first_arrival if self.ready else 0.0

    @property
    def offset_uncertainty(self) -> float:
        """Indicative uncertainty of the sample times, in seconds (not a bound).

        The median height of the windows' least-delayed packets above the fitted line: how
        tightly the lower envelope is pinned. Infinite until
        :data:`MIN_WINDOWS_FOR_UNCERTAINTY` windows have closed. The fixed minimum delay of
        the link (see the module docstring) is not included: it cannot be observed.
        """
        if len(self._windows) < MIN_WINDOWS_FOR_UNCERTAINTY:
            return math.inf
        x, y = self._points()
        return float(np.median(y - (self._intercept + self._slope * x)))

    @property
    def n_windows(self) -> int:
        """Windows in the fit (closed ones plus the open one)."""
        return len(self._windows) + (self._current is not None)

    @property
    def device_timestamps(self) -> bool:
        """Whether the clock uses device timestamps."""
        return isinstance(self._timeline, _DeviceTimeline)

    def reset(self, keep_rate: bool = True) -> None:
        """Forget the stream (after a reconnect its sample index starts again).

        Parameters
        ----------
        keep_rate
            Start the next fit from the rate estimated so far (the crystal is the same).
        """
        self._clear(self.rate if keep_rate and self.ready else self._prior_rate)
