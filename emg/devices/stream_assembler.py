"""Several sensors' packets in, one stream of Blocks on a common host-time grid out.

Every sensor samples on its own crystal and its packets reach the host with their own delays.
The assembler keeps a :class:`~emg.devices.sample_clock.SampleClock` per sensor (host time of
each of its samples) and resamples every sensor onto one grid: output sample ``k`` is at host
time ``T0 + k / sample_rate``, ``T0`` the time of the earliest sensor's first sample. Sample
``k`` of the glute channels and sample ``k`` of the hamstring channels are then the same moment,
to the accuracy of the clocks, which is what the onset order needs.

Resampling
----------
Each sensor's value at a grid time is interpolated at the fractional input position the clock
gives, with a 4-point (cubic) Lagrange interpolator. It is exact for the sample instants and for
polynomials up to degree 3 and adds no delay. Its worst case is half a sample between inputs,
where it acts as a low-pass filter: at 1 kHz, -0.03 dB at 100 Hz, -0.15 dB at 150 Hz,
-1.1 dB at 250 Hz, -4 dB at 350 Hz and -12.7 dB at 450 Hz (linear interpolation: -0.44, -1.0,
-3.0, -6.9, -16 dB). For a typical sEMG spectrum (Shwedyk's model with poles at 60 and
120 Hz, 20-450 Hz) the RMS envelope loses at most 2.6 % (-0.23 dB; linear: 8 %), at half-sample
offsets, and nothing at whole ones. The fractional offset drifts through a full cycle every
``1 / |drift|`` samples (2 s at 500 ppm, 3.3 s at 300 ppm): a slow amplitude ripple of at most
2.6 %, far slower than an onset ramp, that can tilt a glute : hamstring ratio by as much. No
delay is added, so onset times are not shifted. Where a neighbour is lost or not yet received
the interpolator falls back to linear, then to the nearest sample. An output sample is **lost**
exactly when the input sample nearest to it was lost or never came (or, on a fresh start after
a gap, had already been placed), or, at the drift's one-sample slip, when the received input
the slip passes over is between two lost ones (it is placed at the later grid sample rather
than dropped): a run of ``n`` lost inputs becomes a run of ``n`` lost outputs (``n ± 1`` only
when the run is cut by the slip, once in ``1 / drift`` samples).

The mapping from grid to input positions follows the clock, but never jumps: when the clock's
estimate moves, the positions *slew* towards it by at most ``max_slew`` samples per sample
(5 % by default, so a 1 ms correction takes 20 ms). Positions only ever increase, by
``1 ± (max_slew + drift)`` input samples per grid sample, so no input is skipped and none is
placed twice (except as the nearest-sample fallback beside a loss). A sensor starts (and
restarts after a gap) exactly on its clock's estimate. When a sensor's data ends (the stream
closes, or it falls silent), its grid samples are rendered on until the slewed positions have
reached its last input, so that the inputs they lagged behind are placed, not masked.

Gaps
----
- Lost packets (``DecodedPacket.lost``) become lost inputs, hence lost outputs, in place; so
  do received samples no amplifier gives (not finite, or beyond
  :data:`~emg.block.MAX_SAMPLE_UV`: a decoder's glitch), which would wreck the analysis.
- A sensor that delivers nothing for ``latency_s`` (host time, measured by the arrival times
  fed and :meth:`StreamAssembler.poll`) does not hold the others back: its channels are filled
  with 0 and masked up to ``now - latency_s``. ``latency_s`` (1 s by default) is a trade-off:
  a Bluetooth stack under load sometimes holds a sensor's packets back for several hundred ms
  and then delivers them at once; they are kept if they come within ``latency_s``, while the
  output (the live window, the rep decisions) waits for them. When the link is known to be
  down (:meth:`StreamAssembler.link_lost`) nobody waits: the sensor is masked up to ``now``.
  Silence is measured in time the host was able to receive: when the host itself was held up
  (its event loop stalled by a busy machine, :meth:`StreamAssembler.pause`), packets queued
  meanwhile are arrivals it has not yet seen, so that time does not count towards
  ``latency_s``.
  A ``disconnect`` event says so at once; when it delivers again, ``loss`` events (one per
  channel, with the sample range) and a ``reconnect`` event follow. Samples that arrive for
  grid times already emitted are counted as ``late`` and not used.
- After a reconnect its sample index restarts: call :meth:`StreamAssembler.reset_sensor`; the
  sensor gets a new clock (starting from the rate learnt so far) anchored by its new arrival
  times.

Blocks are emitted when every sensor has delivered (or timed out) up to their end: regular,
``round(block_s * sample_rate)`` samples long (the last one, at :meth:`StreamAssembler.close`,
may be shorter), consecutive ``start`` indices, float32, ``t0`` the host time of their first
sample. Output starts once every sensor's clock has ``warmup_s`` of arrivals behind it (or
``latency_s`` after the first packet); nothing is dropped meanwhile.

Assumptions: all sensors deliver ``sample_rate`` nominally; arrival times of all sensors are
on the same host monotonic clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from emg.block import Block, Channel, beyond_sample_range
from emg.devices.decoding import DecodedPacket
from emg.devices.sample_clock import SampleClock
from emg.events import Event

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

#: Input samples kept before the current position (the interpolator looks one back).
_KEEP_BEHIND = 2


@dataclass
class SensorStats:
    """Running counts of one sensor in the assembler (samples per channel).

    Attributes
    ----------
    received
        Samples that arrived.
    lost_in_transit
        Samples the decoder reported lost (``DecodedPacket.lost``).
    late
        Received samples not used because their grid time had already been emitted
        (masked) when they came, or that fell in a reset.
    output_valid, output_lost
        Grid samples rendered with data / masked.
    damaged
        Received samples not finite or beyond :data:`~emg.block.MAX_SAMPLE_UV` (no amplifier
        gives them): placed as lost.
    timeouts
        Times the sensor was silent for longer than ``latency_s``.
    resets
        Calls of :meth:`StreamAssembler.reset_sensor`.
    """

    received: int = 0
    lost_in_transit: int = 0
    late: int = 0
    damaged: int = 0
    output_valid: int = 0
    output_lost: int = 0
    timeouts: int = 0
    resets: int = 0


def lagrange_weights(mu: FloatArray) -> FloatArray:
    """Weights of the 4-point Lagrange interpolator at fractions ``mu`` (taps -1, 0, 1, 2).

    Returns
    -------
    ndarray
        Shape ``(len(mu), 4)``.
    """
    return np.stack(
        [
            -mu * (mu - 1) * (mu - 2) / 6,
            (mu + 1) * (mu - 1) * (mu - 2) / 2,
            -(mu + 1) * mu * (mu - 2) / 2,
            (mu + 1) * mu * (mu - 1) / 6,
        ],
        axis=1,
    )


def interpolate(
    samples: Float32Array, available: BoolArray, positions: FloatArray
) -> tuple[Float32Array, BoolArray]:
    """Values of a sampled signal at fractional row positions.

    Parameters
    ----------
    samples
        ``(m, channels)`` input rows.
    available
        ``(m,)``: False where a row was lost.
    positions
        Fractional row positions (0 = first row).

    Returns
    -------
    values, lost
        ``(len(positions), channels)`` float32 values (0 where lost) and the lost flags: a
        position is lost when its nearest row is lost or outside the rows. Cubic where all
        four neighbours exist, else linear, else the nearest row.
    """
    base = np.floor(positions).astype(np.int64)
    mu = positions - base
    taps = base[:, None] + np.arange(-1, 3)[None, :]
    inside = (taps >= 0) & (taps < available.size)
    clipped = np.clip(taps, 0, max(available.size - 1, 0))
    ok = np.zeros(taps.shape, dtype=bool)
    if available.size:
        ok[inside] = available[clipped[inside]]
    if available.size:
        rows = samples[clipped].astype(np.float64)
    else:
        rows = np.zeros((*taps.shape, samples.shape[1]))
    nearest_tap = np.where(mu < 0.5, 1, 2)
    picked = np.arange(positions.size)
    values = rows[picked, nearest_tap]
    linear = ok[:, 1] & ok[:, 2]
    values = np.where(
        linear[:, None], (1 - mu)[:, None] * rows[:, 1] + mu[:, None] * rows[:, 2], values
    )
    cubic = linear & ok[:, 0] & ok[:, 3]
    weighted = np.einsum("nk,nkc->nc", lagrange_weights(mu), rows)
    values = np.where(cubic[:, None], weighted, values)
    lost = ~ok[picked, nearest_tap]
    values[lost] = 0.0
    return values.astype(np.float32).reshape(positions.size, samples.shape[1]), lost


@dataclass
class _Track:
    """One sensor's state: clock, received samples, and its rendered grid samples."""

    name: str
    channels: tuple[Channel, ...]
    clock: SampleClock
    next_index: int = 0
    buffer: Float32Array = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    available: BoolArray = field(default_factory=lambda: np.zeros(0, bool))
    buffer_start: int = 0
    rendered: int = 0
    out_data: Float32Array = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    out_lost: BoolArray = field(default_factory=lambda: np.zeros(0, bool))
    position: float | None = None
    used_until: int = -1
    #: the last input whose data entered a valid grid sample (as its nearest, or by
    #: interpolation: beside a slip an input may be no grid sample's nearest, yet used)
    entered_until: int = -1
    gap_from: int | None = None
    link_down: bool = False
    stats: SensorStats = field(default_factory=SensorStats)

    def __post_init__(self) -> None:
        width = len(self.channels)
        self.buffer = np.zeros((0, width), np.float32)
        self.out_data = np.zeros((0, width), np.float32)

    def append_input(self, samples: Float32Array, available: bool | BoolArray) -> None:
        """Append received (or lost, zero-filled) input rows (``available``: for all of them,
        or row by row)."""
        self.buffer = np.concatenate([self.buffer, samples])
        rows = np.broadcast_to(np.asarray(available, dtype=bool), (len(samples),))
        self.available = np.concatenate([self.available, rows])
        self.next_index += len(samples)

    def append_output(self, values: Float32Array, lost: BoolArray) -> None:
        """Append rendered grid samples."""
        self.out_data = np.concatenate([self.out_data, values])
        self.out_lost = np.concatenate([self.out_lost, lost])
        self.rendered += len(lost)
        self.stats.output_lost += int(lost.sum())
        self.stats.output_valid += int(len(lost) - lost.sum())

    def take_output(self, n: int) -> tuple[Float32Array, BoolArray]:
        """Remove and return the first ``n`` rendered grid samples."""
        data, lost = self.out_data[:n], self.out_lost[:n]
        self.out_data, self.out_lost = self.out_data[n:], self.out_lost[n:]
        return data, lost

    def trim_input(self, keep_from: int) -> None:
        """Forget input rows before index ``keep_from``; count unused received ones as late."""
        drop = min(max(0, keep_from - self.buffer_start), len(self.available))
        if drop == 0:
            return
        first_unused = max(0, max(self.used_until, self.entered_until) + 1 - self.buffer_start)
        self.stats.late += int(self.available[first_unused:drop].sum())
        self.buffer, self.available = self.buffer[drop:], self.available[drop:]
        self.buffer_start += drop


class StreamAssembler:
    """Put several sensors' packets on one host-time sample grid and emit Blocks.

    Parameters
    ----------
    sensors
        ``(name, channels)`` per sensor, in the order their channels appear in the Blocks.
    sample_rate
        Nominal samples per second of every sensor, and of the output grid.
    block_s
        Length of the emitted Blocks.
    latency_s
        How long to wait for a silent sensor before its part is filled and masked.
    warmup_s
        Arrival history each sensor's clock gets before output starts (and before a sensor
        that was reset is rendered again); must be below ``latency_s``.
    max_slew
        Largest correction of the grid-to-input mapping, in input samples per output sample.
    clock_options
        Keyword arguments for each :class:`SampleClock` (``window_s``, ``history_s``,
        ``max_drift_ppm``).

    Notes
    -----
    The module docstring describes the resampling, the gap handling and the assumptions.
    """

    def __init__(
        self,
        sensors: Sequence[tuple[str, tuple[Channel, ...]]],
        sample_rate: float,
        block_s: float = 0.02,
        latency_s: float = 1.0,
        warmup_s: float = 0.2,
        max_slew: float = 0.05,
        clock_options: dict[str, float] | None = None,
    ) -> None:
        names = [name for name, _ in sensors]
        if not sensors or len(set(names)) != len(names):
            raise ValueError(f"sensor names must be given and unique, got {names}")
        if sample_rate <= 0 or not 0 <= warmup_s < latency_s or not 0 < max_slew < 1:
            raise ValueError("need sample_rate > 0, 0 <= warmup_s < latency_s, 0 < max_slew < 1")
        self.sample_rate = float(sample_rate)
        self.block_size = max(1, round(block_s * sample_rate))
        self.latency_s, self.warmup_s, self.max_slew = latency_s, warmup_s, max_slew
        self._clock_options = dict(clock_options or {})
        self._tracks = {
            name: _Track(name, tuple(channels), self._new_clock(None)) for name, channels in sensors
        }
        self.channels = tuple(c for _, channels in sensors for c in channels)
        self.t0: float | None = None
        self.now = -math.inf
        self.emitted = 0
        self._first_arrival = math.inf
        self._events: list[Event] = []
        self._pauses: list[tuple[float, float]] = []

    def _new_clock(self, prior_rate: float | None) -> SampleClock:
        options = self._clock_options
        return SampleClock(self.sample_rate, prior_rate=prior_rate, **options)

    # ------------------------------------------------------------------ public

    def feed(self, sensor: str, packet: DecodedPacket, arrival: float) -> list[Block]:
        """Take one decoded packet of ``sensor`` that arrived at host time ``arrival``.

        Returns
        -------
        list of Block
            The blocks that became complete.

        Raises
        ------
        KeyError
            For an unknown sensor.
        ValueError
            For samples whose channel count does not match the sensor's.
        """
        track = self._tracks[sensor]
        samples = np.asarray(packet.samples, dtype=np.float32)
        if samples.ndim != 2 or samples.shape[1] != len(track.channels):
            raise ValueError(
                f"{sensor}: packet samples of shape {samples.shape}, expected (n, "
                f"{len(track.channels)})"
            )
        self.now = max(self.now, arrival)
        self._first_arrival = min(self._first_arrival, arrival)
        if packet.lost > 0:
            track.append_input(np.zeros((packet.lost, samples.shape[1]), np.float32), False)
            track.stats.lost_in_transit += packet.lost
        if len(samples):
            track.clock.update(track.next_index, len(samples), arrival, packet.device_time_s)
            # a value no amplifier gives (a decoder's glitch) is a lost sample, not a spike
            bad = ~np.isfinite(samples) | beyond_sample_range(samples)
            damaged: BoolArray = np.asarray(bad.any(axis=1), dtype=bool)
            if damaged.any():
                samples = np.where(damaged[:, None], np.float32(0.0), samples)
                track.stats.damaged += int(damaged.sum())
            track.append_input(samples, ~damaged)
            track.stats.received += len(samples)
        return self._pump()

    def poll(self, now: float) -> list[Block]:
        """Let host time pass without data (so silent sensors time out); emit what is due."""
        self.now = max(self.now, now)
        return self._pump()

    def pause(self, start: float, stop: float) -> None:
        """The host could not receive between host times ``start`` and ``stop`` (its event
        loop was held up): silence in that time does not count towards ``latency_s``.

        Call it before feeding the packets that arrived after the hold-up.
        """
        if not stop > start:
            return
        if self._pauses and start <= self._pauses[-1][1]:
            start = min(start, self._pauses[-1][0])
            stop = max(stop, self._pauses[-1][1])
            self._pauses.pop()
        self._pauses.append((start, stop))

    def _deadline(self, wait: float) -> float:
        """The latest host time that ``wait`` seconds of receiving time lie behind ``now``."""
        t, left = self.now, wait
        for start, stop in reversed(self._pauses):
            stop = min(stop, t)
            if t - left >= stop:
                break
            if stop > start:
                left -= t - stop
                t = start
        deadline = t - left
        while self._pauses and self._pauses[0][1] <= deadline:  # can no longer matter
            self._pauses.pop(0)
        return deadline

    def link_lost(self, sensor: str, now: float) -> list[Block]:
        """The sensor's link dropped at host time ``now``: what it delivered is rendered, and
        the rest of its part is masked up to ``now`` without waiting ``latency_s`` (its packets
        cannot come any more), until :meth:`reset_sensor`.

        Returns
        -------
        list of Block
            The blocks that became complete.
        """
        self._tracks[sensor].link_down = True
        return self.poll(now)

    def reset_sensor(self, sensor: str) -> None:
        """The sensor reconnected and its sample index restarts at 0.

        What it delivered before is rendered first with its old clock; the new samples get a
        new clock anchored by their arrival times.
        """
        track = self._tracks[sensor]
        if self.t0 is None:
            self._start(force=True)
        self._render(track, final=True)
        if self.t0 is not None:
            self._open_gap(track, "reconnected")
        prior = track.clock.rate if track.clock.ready else None
        track.trim_input(track.next_index)
        track.clock = self._new_clock(prior)
        track.next_index = track.buffer_start = 0
        track.position, track.used_until, track.entered_until = None, -1, -1
        track.link_down = False
        track.stats.resets += 1

    def close(self) -> list[Block]:
        """End of the stream: render everything received, pad and mask the rest, emit it all."""
        if self.t0 is None:
            self._start(force=True)
        if self.t0 is None:
            return []
        for track in self._tracks.values():
            self._render(track, final=True)
        end = max(track.rendered for track in self._tracks.values())
        for track in self._tracks.values():
            self._fill_lost(track, end, timeout=False)
            self._close_gap(track, track.rendered, delivers=False)
        return self._emit(final=True)

    def take_events(self) -> list[Event]:
        """Events since the last call (disconnect, loss, reconnect), in order."""
        events, self._events = self._events, []
        return events

    def clock(self, sensor: str) -> SampleClock:
        """The sample clock of a sensor (its current segment)."""
        return self._tracks[sensor].clock

    def stats(self, sensor: str) -> SensorStats:
        """Running counts of a sensor."""
        return self._tracks[sensor].stats

    def grid_time(self, k: float) -> float:
        """Host time of output sample ``k`` (after output has started)."""
        if self.t0 is None:
            raise RuntimeError("no output grid yet: the sensors are warming up")
        return self.t0 + k / self.sample_rate

    # ------------------------------------------------------------------ pumping

    def _pump(self) -> list[Block]:
        if self.t0 is None and not self._start(force=False):
            return []
        for track in self._tracks.values():
            self._render(track, final=False)
        self._apply_timeouts()
        return self._emit(final=False)

    def _warm(self, track: _Track) -> bool:
        return track.clock.ready and track.clock.span_s >= self.warmup_s

    def _start(self, force: bool) -> bool:
        """Fix the grid once every sensor is warm (or waiting is over)."""
        ready = [t for t in self._tracks.values() if t.clock.ready]
        waited = self._deadline(self.latency_s) >= self._first_arrival
        if not ready or not (force or waited or all(map(self._warm, self._tracks.values()))):
            return False
        self.t0 = min(t.clock.time_of(float(t.buffer_start)) for t in ready)
        return True

    def _apply_timeouts(self) -> None:
        assert self.t0 is not None
        deadline = self._deadline(self.latency_s)
        for track in self._tracks.values():
            until = self.now if track.link_down else deadline
            due = math.floor((until - self.t0) * self.sample_rate) + 1
            if track.rendered < due:
                self._render(track, final=True)
                self._fill_lost(track, due, timeout=True)

    # ------------------------------------------------------------------ rendering

    def _render(self, track: _Track, final: bool) -> None:
        """Render the grid samples the sensor's data covers (all of it when ``final``)."""
        if self.t0 is None or not track.clock.ready or not (final or self._warm(track)):
            return
        limit = track.next_index - (0.5 if final else 2.0)
        stop = (track.clock.time_of(limit) - self.t0) * self.sample_rate + 2
        if not math.isfinite(stop) or stop <= track.rendered:
            return
        ks = np.arange(track.rendered, math.ceil(stop), dtype=np.float64)
        positions = self._positions(track, ks)
        if final and positions[-1] < limit:
            # the slewed positions may lag the clock's: render on until they have caught up,
            # or the inputs they had not reached would be masked (and counted late) after
            target = track.clock.index_at(self.grid_time(ks[-1]))
            extra = math.ceil(max(0.0, float(target - positions[-1])) / self.max_slew) + 1
            ks = np.arange(track.rendered, math.ceil(stop) + extra, dtype=np.float64)
            positions = self._positions(track, ks)
        positions = positions[: int(np.searchsorted(positions, limit, side="left"))]
        if positions.size == 0:
            return
        relative = positions - track.buffer_start
        values, lost = interpolate(track.buffer, track.available, relative)
        nearest = np.floor(positions + 0.5)
        if track.position is None:  # a fresh start must not reuse inputs already placed
            reused = nearest <= track.used_until
            values[reused], lost[reused] = 0.0, True
        else:
            self._place_slipped(track, track.position, nearest, values, lost)
        valid = np.flatnonzero(~lost)
        if valid.size:
            self._close_gap(track, track.rendered + int(valid[0]))
        track.append_output(values, lost)
        track.position = float(positions[-1])
        if valid.size:
            track.used_until = max(track.used_until, int(nearest[valid[-1]]))
            # the input after the last valid position entered it too, if it was received
            top = math.ceil(float(positions[valid[-1]]))
            row = top - track.buffer_start
            if 0 <= row < track.available.size and track.available[row]:
                track.entered_until = max(track.entered_until, top)
        track.trim_input(math.floor(track.position) - _KEEP_BEHIND)

    @staticmethod
    def _place_slipped(
        track: _Track, position: float, nearest: FloatArray, values: Float32Array, lost: BoolArray
    ) -> None:
        """The slip: when the positions gain a sample on the grid (a step above 1), one input
        is no grid sample's nearest. Its data still enters the neighbours' interpolation, but
        when the inputs on both sides of it are lost both grid samples beside it are lost and
        it would be dropped: it is placed (the nearest-sample fallback, 0.5 to 0.5 + step - 1
        samples away) at the later one (``position``: the track's, before these grid samples).
        ``nearest`` is updated to the inputs used."""
        before = np.concatenate([[math.floor(position + 0.5)], nearest[:-1]])
        # the grid sample before was lost: its nearest input was never placed
        before_lost = np.concatenate([[before[0] > track.used_until], lost[:-1]])
        for i in np.flatnonzero((nearest - before == 2) & lost & before_lost):
            row = int(nearest[i]) - 1 - track.buffer_start
            if 0 <= row < track.available.size and track.available[row]:
                values[i], lost[i] = track.buffer[row], False
                nearest[i] -= 1

    def _positions(self, track: _Track, ks: FloatArray) -> FloatArray:
        """Input positions of grid samples ``ks``: the clock's, reached by slewing."""
        target = track.clock.indices_at(self.grid_time(0) + ks / self.sample_rate)
        if track.position is None:
            return target
        step = track.clock.rate / self.sample_rate
        count = np.arange(1, ks.size + 1, dtype=np.float64)
        continued = track.position + count * step
        limit = self.max_slew * count
        correction: FloatArray = np.clip(target[0] - continued[0], -limit, limit)
        return continued + correction

    def _fill_lost(self, track: _Track, end: int, timeout: bool) -> None:
        """Mask the sensor's grid samples up to ``end`` (it did not deliver them in time)."""
        n = end - track.rendered
        if n <= 0:
            return
        if timeout and track.gap_from is None:
            track.stats.timeouts += 1
            reason = "the link dropped" if track.link_down else f"silent for {self.latency_s:g} s"
            self._open_gap(track, reason)
        track.append_output(np.zeros((n, len(track.channels)), np.float32), np.ones(n, bool))
        track.position = None
        if track.clock.ready:
            start = math.floor(track.clock.index_at(self.grid_time(track.rendered)))
            track.trim_input(min(start, track.next_index) - _KEEP_BEHIND)

    def _open_gap(self, track: _Track, reason: str) -> None:
        """The sensor stopped delivering at its next grid sample: say so."""
        if track.gap_from is not None:
            return
        track.gap_from = track.rendered
        self._events.append(
            Event(
                track.rendered / self.sample_rate,
                "disconnect",
                f"{track.name} {reason}",
                data={"sensor": track.name, "start": track.rendered},
            )
        )

    def _close_gap(self, track: _Track, stop: int, delivers: bool = True) -> None:
        """The sensor delivers again from grid sample ``stop`` (``delivers``), or the stream
        ends there: the loss is said, and a ``reconnect`` only where it delivers again."""
        if track.gap_from is None:
            return
        start = track.gap_from
        track.gap_from = None
        for channel in track.channels:
            self._events.append(
                Event(
                    start / self.sample_rate,
                    "loss",
                    f"{channel.label} {stop - start} samples",
                    (stop - start) / self.sample_rate,
                    channel=channel.label,
                    data={"start": start, "stop": stop, "sensor": track.name, "cause": "timeout"},
                )
            )
        if not delivers:
            return
        self._events.append(
            Event(
                stop / self.sample_rate,
                "reconnect",
                f"{track.name} delivers again",
                data={"sensor": track.name, "start": stop},
            )
        )

    # ------------------------------------------------------------------ emitting

    def _emit(self, final: bool) -> list[Block]:
        blocks: list[Block] = []
        ready = min(track.rendered for track in self._tracks.values()) - self.emitted
        while ready >= self.block_size or (final and ready > 0):
            n = min(self.block_size, ready)
            blocks.append(self._block(n))
            ready -= n
        return blocks

    def _block(self, n: int) -> Block:
        parts = [track.take_output(n) for track in self._tracks.values()]
        data = np.concatenate([d for d, _ in parts], axis=1)
        widths = [len(track.channels) for track in self._tracks.values()]
        lost = np.concatenate(
            [np.repeat(m[:, None], w, axis=1) for (_, m), w in zip(parts, widths, strict=True)],
            axis=1,
        )
        block = Block(
            data=np.ascontiguousarray(data, dtype=np.float32),
            sample_rate=self.sample_rate,
            t0=self.grid_time(self.emitted),
            start=self.emitted,
            channels=self.channels,
            lost=lost,
        )
        self.emitted += n
        return block
