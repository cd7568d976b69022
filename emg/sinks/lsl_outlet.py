"""Publish a live session on Lab Streaming Layer: the EMG samples and the analysis as markers.

Two outlets, so that LabRecorder records the session next to motion capture, force plates or
video on one clock:

- **EMG** (type ``EMG``, float32, nominal rate = the stream's rate, ``source_id`` = the
  device(s)): every sample of every block, in microvolts, with per-channel metadata in the
  desc (``desc/channels/channel/{label,unit,type,muscle,side,device}``, see
  :mod:`emg.io.lsl_meta`). **Lost samples are pushed as NaN**, the usual XDF convention for
  a sample that was not measured, so the stream stays on its regular grid and a reader can
  mask them (the toolkit's own ``lsl:`` source does).
- **Markers** (type ``Markers``, irregular rate, one string channel, named ``<name>-markers``):
  one marker per ``rep-decided``, ``rep``, ``flag``, ``flag-cleared`` and ``cramp-risk``
  event of the session, as compact JSON: the event exactly as a line of the session's
  ``events.jsonl`` (:meth:`emg.events.Event.to_dict`; :meth:`~emg.events.Event.from_dict`
  reads it back), time-stamped at the event's stream time (a rep at its start, a decision
  when it was decided) on the LSL clock.

Time. A block's ``t0`` is on the host's monotonic clock for live sensors (Bluetooth, an
``lsl:`` source); it is mapped to LSL time with the measured offset between the two clocks
(:func:`emg.io.lsl_meta.clock_offset`). Synthetic and replayed streams carry the time of the
recording instead; their stream time is anchored so that the last sample of the first block is
"now" on the LSL clock, and every later sample follows at the nominal rate (at ``--speed``
other than 1 the time stamps run ahead of or behind the wall clock accordingly). Each block is
pushed as one chunk with the time stamp of its last sample; LSL derives the others at the
nominal rate, so the stamps are exactly regular. Samples that reach the sink twice (the live
window's calibration feeds the same stretch of stream again) are pushed once.

Pushing never blocks acquisition: the session's listeners only append to a bounded queue that
a thread of its own empties into liblsl (whose pushes do not block either); past the queue's
size the oldest items are dropped and counted (:attr:`LslOutlet.dropped`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import numpy as np

from emg.analysis.pipeline import PipelineOutput
from emg.block import Block, Channel
from emg.errors import EmgInputError
from emg.events import Event
from emg.io.lsl_meta import clock_offset, load_pylsl, write_channels
from emg.session import LiveSession
from emg.version import __version__

#: Event kinds published on the marker outlet.
MARKER_KINDS = ("rep-decided", "rep", "flag", "flag-cleared", "cramp-risk")

#: Items (blocks and markers) queued for the pushing thread before the oldest are dropped
#: (at 20 ms blocks, more than a minute).
QUEUE_ITEMS = 4096

#: A first block whose last sample is within this many seconds of the host's monotonic clock
#: is taken to be stamped on it (when the caller does not say).
HOST_CLOCK_WINDOW_S = 10.0

#: Seconds :meth:`LslOutlet.close` waits for the queue to drain, and then for consumers to
#: take the last samples, before the outlets are destroyed.
CLOSE_WAIT_S = 2.0
LINGER_S = 0.2


def marker_text(event: Event) -> str:
    """The marker for an event: its :meth:`~emg.events.Event.to_dict` as compact JSON."""
    return json.dumps(event.to_dict(), separators=(",", ":"), allow_nan=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def check_outlet_name(name: str, option: str | None = None) -> str:
    """An LSL outlet name, checked: not empty or blank (liblsl cannot describe such a stream).

    Raises
    ------
    EmgInputError
        For an empty or blank name, naming ``option`` (``--lsl``) when given.
    """
    if not name.strip():
        raise EmgInputError(
            f"{option or 'the LSL outlet name'} '{name}' is empty: give the stream a name "
            "(e.g. emg)",
            source="command line" if option else None,
            field=None if option else "name",
        )
    return name


def default_source_id(channels: Iterable[Channel]) -> str:
    """The devices of the channels joined with ``+``, or ``emg-toolkit@<host>`` if none."""
    devices = list(dict.fromkeys(c.device for c in channels if c.device))
    return "+".join(devices) if devices else f"emg-toolkit@{socket.gethostname()}"


class LslOutlet:
    """The EMG and marker outlets of one live stream.

    Parameters
    ----------
    channels, sample_rate
        Of the stream.
    name
        Name of the EMG outlet; the marker outlet is ``<name>-markers``.
    source_id
        LSL ``source_id`` of the EMG outlet (the marker outlet's gets ``-markers``); by
        default the devices of the channels (:func:`default_source_id`).
    host_clock
        Whether block ``t0`` values are on the host's monotonic clock (live sensors) or are
        a recording's own time (synthetic, replay); None decides from the first block
        (:data:`HOST_CLOCK_WINDOW_S`).
    queue_items
        Size of the queue to the pushing thread.

    Raises
    ------
    EmgDeviceError
        When pylsl (liblsl) is not available.
    """

    def __init__(
        self,
        channels: tuple[Channel, ...],
        sample_rate: float,
        name: str = "emg",
        source_id: str | None = None,
        host_clock: bool | None = None,
        queue_items: int = QUEUE_ITEMS,
    ) -> None:
        check_outlet_name(name)
        lsl = load_pylsl()
        self.channels, self.sample_rate, self.name = channels, float(sample_rate), name
        self.source_id = source_id or default_source_id(channels)
        self.host_clock = host_clock
        self._local_clock: Callable[[], float] = lsl.local_clock

        info = lsl.StreamInfo(
            name, "EMG", len(channels), self.sample_rate, "float32", self.source_id
        )
        desc = info.desc()
        write_channels(desc, channels)
        acquisition = desc.append_child("acquisition")
        acquisition.append_child_value("manufacturer", "emg-toolkit")
        acquisition.append_child_value("software_version", __version__)
        acquisition.append_child_value("lost_samples", "NaN")
        markers = lsl.StreamInfo(
            f"{name}-markers",
            "Markers",
            1,
            lsl.IRREGULAR_RATE,
            "string",
            f"{self.source_id}-markers",
        )
        markers.desc().append_child_value(
            "format", "JSON: one emg-toolkit event per marker, as in events.jsonl"
        )
        self._emg: Any = lsl.StreamOutlet(info)
        self._markers: Any = lsl.StreamOutlet(markers)

        self._offset: float | None = None  # LSL time minus block time
        self._origin: float | None = None  # block time of the session's sample 0
        self._next_t: float | None = None  # block time of the sample after the last pushed
        self.samples = 0
        self.markers = 0
        self.dropped = 0
        self.errors = 0
        self.last_error: BaseException | None = None
        self._queue: deque[tuple[str, Any, float]] = deque()
        self._size = max(1, queue_items)
        self._wake = threading.Condition()
        self._closing = False
        self._closed = False
        self._attached: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="emg-lsl-outlet", daemon=True)
        self._thread.start()

    # --- what the session hands over -------------------------------------------------------

    def on_output(self, block: Block, output: PipelineOutput | None = None) -> None:
        """A session's output listener: queue the block's samples (see :meth:`push_block`)."""
        self.push_block(block)

    def push_block(self, block: Block) -> None:
        """Queue a block's samples, lost ones as NaN, stamped on the LSL clock.

        ``block.start`` counts from the sample 0 of the session the block was fed to; it
        places the session's events (:meth:`on_events`).
        """
        n, fs = block.n_samples, block.sample_rate
        if n == 0:
            return
        if self._offset is None:
            self._offset = self._first_offset(block)
        self._origin = block.t0 - block.start / fs
        skip = 0
        if self._next_t is not None:
            skip = max(0, round((self._next_t - block.t0) * fs))
        if skip >= n:
            return
        data = np.array(block.data[skip:], dtype=np.float32, copy=True)
        lost = block.lost[skip:]
        if lost.any():
            data[lost] = np.nan
        self._next_t = block.t0 + n / fs
        stamp = block.t0 + (n - 1) / fs + self._offset
        if self._put(("emg", data, stamp)):  # not once closed (a stopped session's last)
            self.samples += n - skip

    def on_events(self, events: list[Event]) -> None:
        """A session's listener: queue a marker for every event of :data:`MARKER_KINDS`."""
        for event in events:
            if event.kind not in MARKER_KINDS:
                continue
            if self._offset is None or self._origin is None:
                continue  # no sample yet: nothing to place it by
            try:
                text = marker_text(event)
            except (TypeError, ValueError) as error:
                self.errors += 1
                self.last_error = error
                continue
            if self._put(("marker", text, self._offset + self._origin + event.time_s)):
                self.markers += 1

    def attach(self, session: LiveSession) -> None:
        """Hook into a session after whatever listens to it already (console, window)."""
        if id(session) in self._attached:
            return
        self._attached.add(id(session))
        before_output, before_events = session.output_listener, session.listener

        def output(block: Block, result: PipelineOutput) -> None:
            if before_output is not None:
                before_output(block, result)
            self.on_output(block, result)

        def listen(events: list[Event]) -> None:
            if before_events is not None:
                before_events(events)
            self.on_events(events)

        session.output_listener, session.listener = output, listen

    def wrap(
        self, session: LiveSession, blocks: Callable[[], AsyncIterator[Block]]
    ) -> Callable[[], AsyncIterator[Block]]:
        """A source's block factory that attaches this outlet to ``session`` when streaming
        starts (after the live window has hooked in) and closes it when the stream ends."""

        def factory() -> AsyncIterator[Block]:
            return self._published(session, blocks())

        return factory

    async def _published(
        self, session: LiveSession, blocks: AsyncIterator[Block]
    ) -> AsyncIterator[Block]:
        self.attach(session)
        try:
            async for block in blocks:
                yield block
        finally:
            close = getattr(blocks, "aclose", None)
            if close is not None:
                await close()
            self.close()

    # --- the pushing thread ----------------------------------------------------------------

    def _first_offset(self, block: Block) -> float:
        last = block.t0 + (block.n_samples - 1) / block.sample_rate
        host = self.host_clock
        if host is None:
            host = abs(time.monotonic() - last) < HOST_CLOCK_WINDOW_S
            self.host_clock = host
        if host:
            return clock_offset(self._local_clock)
        return float(self._local_clock()) - last

    def _put(self, item: tuple[str, Any, float]) -> bool:
        """Queue an item for the pushing thread; False once the outlet is closed."""
        with self._wake:
            if self._closing:
                return False
            if len(self._queue) >= self._size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(item)
            self._wake.notify()
            return True

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    return
                kind, payload, stamp = self._queue.popleft()
            try:
                if kind == "emg":
                    self._emg.push_chunk(payload, timestamp=stamp)
                else:
                    self._markers.push_sample([payload], timestamp=stamp)
            except Exception as error:  # never let LSL trouble reach acquisition
                self.errors += 1
                self.last_error = error

    @property
    def has_consumers(self) -> bool:
        """Whether anyone (LabRecorder ...) reads the EMG or the marker outlet."""
        if self._closed:
            return False
        return bool(self._emg.have_consumers() or self._markers.have_consumers())

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Push what is queued (waiting at most ``wait_s``), then destroy the outlets."""
        if self._closed:
            return
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        self._thread.join(wait_s)
        if self._thread.is_alive():
            return  # liblsl is stuck; leave the outlets to the garbage collector
        if self.has_consumers:
            time.sleep(LINGER_S)  # let the consumers take the last chunk
        self._closed = True
        self._emg = self._markers = None
