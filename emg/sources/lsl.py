"""Any Lab Streaming Layer EMG stream as a source (``--source lsl:NAME``).

Bridges for Delsys Trigno, PLUX OpenSignals, BrainFlow boards and others publish their sensors
as LSL streams; this source reads such a stream into Blocks, so every one of them works with
the toolkit, and so does its own outlet (:mod:`emg.sinks.lsl_outlet`).

- **Finding it**: by name, within a timeout; when no stream has the name, the error lists the
  EMG streams that were seen.
- **Channels**: labels, units, types, muscles and sides from the stream's
  ``desc/channels/channel`` entries (XDF meta-data conventions, :mod:`emg.io.lsl_meta`),
  named as muscles by the rules of :mod:`emg.io.channel_map`, or picked with ``--channel
  MUSCLE=LABEL`` as for files; samples scaled from µV, mV or V to microvolts.
- **Time**: the inlet applies LSL's clock synchronisation (``proc_clocksync``: time stamps on
  this computer's LSL clock, whatever computer the stream comes from); the samples are then
  put on a regular grid at the stream's nominal rate by :class:`GridClock`, which smooths the
  time-stamp jitter and turns a step in the time stamps into lost samples. liblsl's own
  ``proc_dejitter`` is not used: it fits time to the *count* of samples received, so a gap in
  the stream would vanish into the fit (and move every later sample earlier by its length)
  instead of showing as lost samples.
- **Loss**: missing samples (a step in the time stamps) and NaN samples (the XDF convention
  for a lost sample, which the toolkit's outlet follows) become lost samples: filled with 0
  and True in the block's loss mask.
- **Status**: no sample for :data:`STALL_S` is a ``disconnect`` event, samples again a
  ``reconnect``; the inlet reconnects by itself when the stream comes back (same
  ``source_id``), and the time in between is lost samples.

Block ``t0`` values are on the host's monotonic clock, like those of the Bluetooth source.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.block import Block, Channel, beyond_sample_range
from emg.errors import EmgDeviceError, EmgInputError
from emg.events import Event, EventKind
from emg.io.channel_map import SourceChannel, map_channels, unit_scale
from emg.io.lsl_meta import clock_offset, load_pylsl, read_channels

#: Prefix of the ``--source`` value naming an LSL stream.
PREFIX = "lsl:"

#: Seconds to look for the stream by default.
RESOLVE_TIMEOUT_S = 5.0
#: Seconds of each look for the stream: a search is stopped (Ctrl-C) between two. pylsl's
#: search blocks in liblsl, where no stop reaches it, and a search of up to 600 s had to run
#: out before the command could stop.
RESOLVE_SLICE_S = 0.5

#: Seconds without a sample before a ``disconnect`` event.
STALL_S = 2.0

#: Seconds between polls of the inlet when it had nothing.
POLL_S = 0.005

#: Longest block of lost samples yielded at once (a long gap comes as several).
MAX_LOSS_BLOCK_S = 1.0

#: A time stamp more than this many sample periods, and more than :data:`JITTER_S`, later
#: than the grid expects marks a gap.
GAP_PERIODS = 1.5

#: Time-stamp jitter (seconds) tolerated before a step counts as a gap. Senders that stamp
#: each chunk on arrival (Bluetooth bridges) jitter by a few to some tens of milliseconds;
#: a gap shorter than this is not seen (its samples are then late by its length, until the
#: grid's smoothing has followed).
JITTER_S = 0.025

#: Time constant (seconds of samples) with which the grid follows the time stamps.
SMOOTHING_S = 2.0

#: Longest step in the time stamps that is filled with lost samples. A longer one is taken as a
#: clock fault, not as data that never came: filling it would allocate samples out of all
#: proportion to what was received (one stamp 10^6 s ahead is 10^9 samples at 1 kHz). Longer
#: than :data:`STALL_S` and than liblsl needs to recover a dropped connection, so a real outage
#: is still filled exactly in practice.
MAX_GAP_S = 10.0

#: Highest nominal rate taken (Hz); a higher one is refused before anything is allocated.
MAX_RATE_HZ = 100_000.0

#: Most channels taken from one stream; a wider one is refused with a short message.
MAX_CHANNELS = 512

#: Most values (samples x channels) pulled from the inlet at once.
MAX_PULL_VALUES = 1 << 20

#: numpy dtypes of LSL's numeric channel formats (pylsl's ``cf_*`` codes).
_FORMATS: dict[int, type[np.generic]] = {
    1: np.float32,
    2: np.float64,
    4: np.int32,
    5: np.int16,
    6: np.int8,
    7: np.int64,
}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def lsl_stream_name(kind: str) -> str | None:
    """``"lsl:Trigno"`` -> ``"Trigno"``; None for a ``--source`` that is not LSL.

    Raises
    ------
    EmgInputError
        For ``lsl:`` without a name.
    """
    if not kind.lower().startswith(PREFIX):
        return None
    name = kind[len(PREFIX) :].strip()
    if not name:
        raise EmgInputError(
            "--source lsl:NAME needs the name of the LSL stream, e.g. lsl:Trigno",
            source="command line",
        )
    return name


class GridClock:
    """Places time-stamped samples on a regular grid at the nominal rate.

    The grid starts at the first time stamp (index 0). Every sample takes the next index
    unless its time stamp is later than that index's expected time by more than the
    tolerance (``max(GAP_PERIODS / fs, jitter_s)``): then the indices in between are skipped
    (lost samples) and the grid is anchored at that time stamp. A time stamp earlier than
    expected by more than the tolerance (a reset clock) re-anchors the grid without skipping.
    Within the tolerance, the grid's time follows the time stamps with time constant
    ``smoothing_s`` (jitter is averaged out, a clock that is a few ppm off is followed).

    Bad time stamps never allocate or shift good data:

    - a time stamp that is not finite (NaN, inf) says nothing: the sample takes the next index
      and the grid is left as it was (before the first finite stamp such a sample has no
      place and gets index -1, for the caller to drop);
    - a time stamp off by more than the tolerance while the *next* sample is back where the
      grid expects it is one bad stamp: treated like a non-finite one;
    - a step longer than ``max_gap_s`` either way is never filled with lost samples: it
      re-anchors the grid (counted in ``jumps`` or ``resets``) once a second sample is on the
      new time line; a far stamp that ends a chunk waits for that confirmation (the next
      chunk's first stamp) and is a bad stamp until then, so a single far-future stamp costs
      nothing and never moves a block's ``t0``. A real outage that long is bracketed by the
      source's ``disconnect``/``reconnect`` events.

    Parameters
    ----------
    sample_rate
        Nominal samples per second.
    jitter_s
        Tolerated time-stamp jitter (see :data:`JITTER_S`).
    smoothing_s
        Time constant of the grid's time, in seconds of samples.
    max_gap_s
        Longest step in the time stamps filled with lost samples (see :data:`MAX_GAP_S`).

    Attributes
    ----------
    gaps, resets, jumps
        Steps filled as lost samples; steps back; steps forward beyond ``max_gap_s``.
    bad_stamps
        Samples whose time stamp was not finite or was a lone outlier.
    """

    def __init__(
        self,
        sample_rate: float,
        jitter_s: float = JITTER_S,
        smoothing_s: float = SMOOTHING_S,
        max_gap_s: float = MAX_GAP_S,
    ) -> None:
        if not 0 < sample_rate <= MAX_RATE_HZ:
            raise ValueError(f"sample rate must be in (0, {MAX_RATE_HZ:g}] Hz, got {sample_rate}")
        self.sample_rate = float(sample_rate)
        self.period = 1.0 / self.sample_rate
        self.tolerance = max(GAP_PERIODS * self.period, jitter_s)
        self.weight = min(1.0, 1.0 / max(1.0, smoothing_s * self.sample_rate))
        self.max_gap = max(float(max_gap_s), self.tolerance)
        self.next_index = 0
        self._expected: float | None = None  # expected time stamp of next_index
        self.gaps = 0
        self.resets = 0
        self.jumps = 0
        self.bad_stamps = 0
        self._far: float | None = None  # residual of a far stamp that ended the last chunk

    def place(self, stamps: Sequence[float] | FloatArray) -> IntArray:
        """Grid indices of consecutive samples, strictly increasing across calls.

        Parameters
        ----------
        stamps
            Their time stamps, in seconds.

        Returns
        -------
        numpy.ndarray
            int64 grid index of each sample; -1 for a sample without a finite time stamp
            before the first finite one (it has no place on the grid).
        """
        values = np.asarray(stamps, dtype=np.float64).tolist()
        out = np.empty(len(values), dtype=np.int64)
        expected, index = self._expected, self.next_index
        tolerance, period, weight, fs = self.tolerance, self.period, self.weight, self.sample_rate
        for j, stamp in enumerate(values):
            if not math.isfinite(stamp):
                self.bad_stamps += 1
                if expected is None:
                    out[j] = -1
                    continue
                stamp = expected
            if expected is None:
                expected = stamp
            residual = stamp - expected
            far = abs(residual) > self.max_gap
            waits = far and j + 1 == len(values) and not self._confirms(residual)
            self._far = residual if waits else None
            if abs(residual) > tolerance and (
                waits or _back_on_time(values, j + 1, expected + period, tolerance)
            ):
                self.bad_stamps += 1  # a lone outlier: the grid goes on as it was
            elif far:
                expected = stamp  # re-anchored, nothing skipped
                if residual > 0:
                    self.jumps += 1
                else:
                    self.resets += 1
            elif residual > tolerance:
                index += round(residual * fs)
                expected = stamp
                self.gaps += 1
            elif residual < -tolerance:
                expected = stamp
                self.resets += 1
            else:
                expected += weight * residual
            out[j] = index
            index += 1
            expected += period
        self._expected, self.next_index = expected, index
        return out

    def _confirms(self, residual: float) -> bool:
        """Whether a far stamp that ends a chunk is on the time line of the previous one."""
        return self._far is not None and abs(residual - self._far) <= self.tolerance

    def time_of(self, index: int) -> float:
        """The grid's time of an index (in the time stamps' clock)."""
        if self._expected is None:
            raise ValueError("no time stamp placed yet")
        return self._expected - (self.next_index - index) * self.period


def _back_on_time(stamps: list[float], j: int, expected: float, tolerance: float) -> bool:
    """Whether sample ``j`` exists and its time stamp is where the grid expected it."""
    return j < len(stamps) and abs(stamps[j] - expected) <= tolerance


def _describe(info: Any) -> str:
    rate = float(info.nominal_srate())
    return (
        f"'{info.name()}' ({info.type()}, {int(info.channel_count())} channels, "
        + (f"{rate:g} Hz" if rate > 0 else "irregular rate")
        + f", on {info.hostname()})"
    )


def resolve_stream(
    name: str, timeout_s: float = RESOLVE_TIMEOUT_S, stop: threading.Event | None = None
) -> Any:
    """Find the LSL stream called ``name``.

    Parameters
    ----------
    name
        The stream's name.
    timeout_s
        Seconds to look for it.
    stop
        Set (from another thread) to give up the search within :data:`RESOLVE_SLICE_S`.

    Returns
    -------
    pylsl.StreamInfo
        Its (short) info, to open an inlet with.

    Raises
    ------
    EmgDeviceError
        When no stream has the name within ``timeout_s`` (listing the EMG streams seen), or
        several EMG streams do, or the search was stopped.
    """
    lsl = load_pylsl()
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        look = max(0.0, min(RESOLVE_SLICE_S, remaining))
        found = list(lsl.resolve_byprop("name", name, minimum=1, timeout=look))
        if stop is not None and stop.is_set():
            raise EmgDeviceError(f"the search for LSL stream '{name}' was stopped")
        if found or remaining <= RESOLVE_SLICE_S:
            break
    if not found:
        seen = list(lsl.resolve_streams(wait_time=min(1.0, timeout_s)))
        emg = [s for s in seen if str(s.type()).strip().upper() == "EMG"]
        others = len(seen) - len(emg)
        listing = ", ".join(_describe(s) for s in emg) or "none"
        raise EmgDeviceError(
            f"no LSL stream named '{name}' found within {timeout_s:g} s (EMG streams seen: "
            f"{listing}"
            + (f"; {others} other streams" if others else "")
            + "); check the bridge is streaming, the name, and that this computer is on the "
            "same network (lsl_api.cfg)"
        )
    if len(found) > 1:
        emg = [s for s in found if str(s.type()).strip().upper() == "EMG"]
        if len(emg) == 1:
            return emg[0]
        raise EmgDeviceError(
            f"{len(found)} LSL streams are named '{name}': "
            + ", ".join(f"{_describe(s)} source_id '{s.source_id()}'" for s in found)
            + "; stop the others or rename them"
        )
    return found[0]


def _check_width(found: Sequence[SourceChannel], where: str) -> None:
    """Refuse a stream with more than :data:`MAX_CHANNELS` channels, in one short line."""
    if len(found) > MAX_CHANNELS:
        first = ", ".join(channel.name for channel in found[:5])
        raise EmgInputError(
            f"has {len(found)} channels ({first}, ...); at most {MAX_CHANNELS} are taken",
            source=where,
        )


class LslSource:
    """Blocks from an LSL EMG stream.

    Opening it (the constructor) resolves the stream, connects an inlet and reads its
    channels; :meth:`blocks` then streams.

    Parameters
    ----------
    name
        Name of the LSL stream.
    overrides
        ``--channel`` overrides (target label -> channel label in the stream), or None.
    timeout_s
        Seconds to look for the stream and to connect to it.
    on_event
        Called with ``disconnect`` and ``reconnect`` events (stream time).
    jitter_s
        Tolerated time-stamp jitter (:class:`GridClock`).
    stop
        Set from another thread to give up looking for the stream (:func:`resolve_stream`).

    Raises
    ------
    EmgDeviceError
        Stream not found, or not reachable.
    EmgInputError
        A stream without a usable channel (no nominal rate, string samples, no channel
        that is EMG or names a muscle, a unit that is not a voltage).
    """

    def __init__(
        self,
        name: str,
        overrides: Mapping[str, str] | None = None,
        timeout_s: float = RESOLVE_TIMEOUT_S,
        on_event: Callable[[list[Event]], None] | None = None,
        jitter_s: float = JITTER_S,
        stop: threading.Event | None = None,
    ) -> None:
        lsl = load_pylsl()
        self.name, self.on_event = name, on_event
        self.where = f"LSL stream '{name}'"
        short = resolve_stream(name, timeout_s, stop)
        rate = float(short.nominal_srate())
        if not rate > 0:
            raise EmgInputError(
                "has an irregular rate (nominal rate 0); an EMG stream needs a sample rate",
                source=self.where,
            )
        if not rate <= MAX_RATE_HZ:
            raise EmgInputError(
                f"has a nominal rate of {rate:g} Hz, above the {MAX_RATE_HZ:g} Hz this toolkit"
                " takes (is the sender's rate setting right?)",
                source=self.where,
            )
        dtype = _FORMATS.get(int(short.channel_format()))
        if dtype is None:
            raise EmgInputError(
                "has no numeric samples (a marker stream?); an EMG stream needs numbers",
                source=self.where,
            )
        self.inlet: Any = lsl.StreamInlet(
            short, max_buflen=60, recover=True, processing_flags=lsl.proc_clocksync
        )
        try:
            info = self._connect(lsl, timeout_s)
            self.source_id = str(info.source_id())
            self.hostname = str(info.hostname())
            self.stream_type = str(info.type())
            found = read_channels(info)
            _check_width(found, self.where)
            taken = map_channels(found, overrides or None, source=self.where, device=name)
            self.scales = np.array(
                [unit_scale(found[i].unit, self.where, found[i].name) for i, _ in taken],
                dtype=np.float64,
            )
        except BaseException:
            self.close()
            raise
        self.found: list[SourceChannel] = found
        self.columns = [index for index, _ in taken]
        self.channels: tuple[Channel, ...] = tuple(channel for _, channel in taken)
        self.sample_rate = rate
        self.clock = GridClock(rate, jitter_s)
        width = len(found)
        rows = max(16, min(max(1024, round(rate)), MAX_PULL_VALUES // width))
        self._buffer = np.zeros((rows, width), dtype=dtype)
        self._offset = clock_offset(lsl.local_clock)  # LSL time minus host monotonic time
        self.emitted = 0
        self.received = 0
        self._held: list[Block] = []  # kept for drain() when the stream is stopped
        self._unyielded: list[Block] = []  # pulled, not yet yielded by blocks()
        self.lost_samples = 0

    def _connect(self, lsl: Any, timeout_s: float) -> Any:
        """The stream's full info (with its desc); connects the inlet and takes its first
        clock-offset estimate (which waits for probes: here, not in a pull on the event
        loop)."""
        try:
            info = self.inlet.info(timeout=timeout_s)
            self.inlet.open_stream(timeout=timeout_s)
            self.inlet.time_correction(timeout=timeout_s)
        except lsl.TimeoutError:
            raise EmgDeviceError(
                f"{self.where} was found but did not answer within {timeout_s:g} s"
            ) from None
        return info

    @property
    def metadata(self) -> dict[str, Any]:
        """What a session keeps about the stream."""
        return {
            "source": "lsl",
            "sensors": [
                {
                    "name": self.name,
                    "profile": "lsl",
                    "source_id": self.source_id,
                    "hostname": self.hostname,
                    "stream_type": self.stream_type,
                    "channels": [c.label for c in self.channels],
                    "stream_channels": [self.found[i].name for i in self.columns],
                }
            ],
        }

    def pull(self) -> list[Block]:
        """What the inlet holds now, as blocks (lost samples included); never waits."""
        blocks: list[Block] = []
        while True:
            _, stamps = self.inlet.pull_chunk(
                timeout=0.0, max_samples=len(self._buffer), dest_obj=self._buffer
            )
            n = len(stamps)
            if n == 0:
                return blocks
            self.received += n
            values = self._buffer[:n, self.columns].astype(np.float64) * self.scales
            blocks.extend(self._place(np.asarray(stamps, dtype=np.float64), values))
            if n < len(self._buffer):
                return blocks

    def _place(self, stamps: FloatArray, values: FloatArray) -> list[Block]:
        """Blocks of pulled samples: NaN, inf and values beyond any amplifier's range
        (:data:`~emg.block.MAX_SAMPLE_UV`) become lost samples;
        samples without a finite time stamp before the first finite one are dropped."""
        indices = self.clock.place(stamps)
        placed = indices >= 0
        if not placed.all():
            indices, values = indices[placed], values[placed]
            if len(indices) == 0:
                return []
        lost = ~np.isfinite(values) | beyond_sample_range(values)
        data = np.where(lost, 0.0, values).astype(np.float32)
        blocks: list[Block] = []
        cuts = np.flatnonzero(np.diff(indices) != 1) + 1
        for run in np.split(np.arange(len(indices)), cuts):
            first = int(indices[run[0]])
            if first > self.emitted:
                blocks.extend(self._loss(first - self.emitted))
            blocks.append(self._block(data[run], lost[run]))
        return blocks

    def _loss(self, count: int) -> list[Block]:
        size = max(1, round(MAX_LOSS_BLOCK_S * self.sample_rate))
        blocks = []
        while count > 0:
            n = min(size, count)
            shape = (n, len(self.channels))
            blocks.append(
                self._block(np.zeros(shape, dtype=np.float32), np.ones(shape, dtype=bool))
            )
            count -= n
        return blocks

    def _block(self, data: npt.NDArray[np.float32], lost: npt.NDArray[np.bool_]) -> Block:
        block = Block(
            data=data,
            sample_rate=self.sample_rate,
            t0=self.clock.time_of(self.emitted) - self._offset,
            start=self.emitted,
            channels=self.channels,
            lost=lost,
        )
        self.emitted += block.n_samples
        self.lost_samples += int(lost.sum())
        return block

    async def blocks(self) -> AsyncIterator[Block]:
        """Yield blocks until cancelled (or closed); the inlet is closed at the end, once what
        it held and the blocks pulled but not yet yielded are kept for :meth:`drain`."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        stalled = False
        try:
            while True:
                blocks = self.pull()
                now = loop.time()
                if not blocks:
                    if not stalled and now - last > STALL_S:
                        stalled = True
                        self._tell("disconnect", f"{self.name} no samples for {STALL_S:g} s")
                    await asyncio.sleep(POLL_S)
                    continue
                last = now
                if stalled:
                    stalled = False
                    self._tell("reconnect", f"{self.name} streaming")
                for index, block in enumerate(blocks):
                    self._unyielded = blocks[index + 1 :]
                    yield block
                self._unyielded = []
        finally:
            try:
                if self.inlet is not None:
                    self._held += self._take_held()
            finally:
                self.close()

    def drain(self) -> list[Block]:
        """The samples the stream had delivered to this host but :meth:`blocks` had not
        yielded when it was stopped (for a session being stopped: Ctrl-C, the window
        closed); a second call returns nothing.

        Returns
        -------
        list of Block
            Consecutive with the last Block :meth:`blocks` yielded.
        """
        held, self._held = self._held, []
        if self.inlet is not None:  # not closed yet: what it holds now
            held += self._take_held()
        return held

    def _take_held(self) -> list[Block]:
        """The blocks pulled but not yet yielded, and what the inlet holds; only those when
        the inlet fails (stopping must not fail with it)."""
        held, self._unyielded = self._unyielded, []
        try:
            return [*held, *self.pull()]
        except Exception:  # liblsl's errors, a lost stream: best effort, as close() is
            return held

    def _tell(self, kind: EventKind, description: str) -> None:
        if self.on_event is not None:
            event = Event(
                self.emitted / self.sample_rate,
                kind,
                description,
                data={"sensor": self.name, "source_id": self.source_id},
            )
            self.on_event([event])

    def close(self) -> None:
        """Disconnect from the stream."""
        inlet, self.inlet = self.inlet, None
        if inlet is not None:
            try:
                inlet.close_stream()
            except Exception:  # closing is best effort
                pass


async def open_lsl_source(
    name: str, overrides: Mapping[str, str] | None = None, timeout_s: float = RESOLVE_TIMEOUT_S
) -> LslSource:
    """:class:`LslSource` opened in a worker thread (resolving waits up to ``timeout_s``),
    so the event loop goes on meanwhile; cancelled (Ctrl-C), the search ends within
    :data:`RESOLVE_SLICE_S`, so the worker thread does not hold the program's exit."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(LslSource, name, overrides, timeout_s, stop=stop)
    except asyncio.CancelledError:
        stop.set()
        raise
