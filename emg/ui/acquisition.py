"""Acquisition for the live window: a source and its live session on an asyncio loop of their
own, in a thread, handing frames and events to the window through bounded queues.

The window must never stall acquisition or recording (sinks read from bounded
queues, the recorder is fed first). Here the loop records and analyses every block
(:class:`~emg.session.LiveSession`) and only then appends what the window needs to two
bounded deques; appending never blocks, and when the window falls behind by more than the
queue holds, the oldest frames are dropped (counted), never a sample of the recording.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar

import numpy as np

from emg.analysis.pipeline import PipelineOutput
from emg.block import Block
from emg.events import Event
from emg.session import LiveSession, run_session
from emg.ui.live_state import DisplayFrame
from emg.ui.session_control import FolderFor, SessionControl

T = TypeVar("T")

#: What a queued item belongs to: (run of the acquisition, restart of its session).
Tag = tuple[int, int]
#: Frames kept for the window (at 20 ms blocks, 20 s of display lag).
FRAME_QUEUE = 1000
#: Events kept for the window.
EVENT_QUEUE = 100_000


def display_frame(block: Block, output: PipelineOutput, k: float, settle: int = 0) -> DisplayFrame:
    """The part of a block's analysis the window draws.

    Parameters
    ----------
    block
        The block.
    output
        What the analysis made of it.
    k
        Threshold factor of the onset detector (mean + k SD of the baseline).
    settle
        Samples at the start of the stream in which the filters settle: not drawn (NaN), as
        the analysis does not look at them either. Drawn, the start-up transient was up to a
        hundred times the signal, and the running peak the traces are scaled to made the set
        a flat line for the first seconds.
    """
    chain = output.chain
    thresholds = None
    if chain.amplitude_baselines:
        baseline = chain.amplitude_baselines[-1]
        thresholds = np.asarray(baseline.mean + k * baseline.std, dtype=np.float64)
    lost = block.lost if block.lost.shape == block.data.shape else np.zeros(block.data.shape, bool)
    filtered = np.asarray(chain.filtered, dtype=np.float32)
    envelope = np.asarray(chain.envelope, dtype=np.float32)
    settling = min(max(settle - chain.start, 0), len(filtered))
    if settling:
        filtered, envelope = filtered.copy(), envelope.copy()
        filtered[:settling] = envelope[:settling] = np.nan
    return DisplayFrame(block.start, filtered, envelope, lost, thresholds, chain.stuck)


class BoundedQueue(Generic[T]):
    """A thread-safe queue that never blocks its producer: past ``size`` items the oldest are
    dropped and counted."""

    def __init__(self, size: int) -> None:
        self._items: deque[T] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, item: T) -> None:
        """Append (dropping the oldest item when full)."""
        with self._lock:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)

    def take_all(self) -> list[T]:
        """Everything queued, oldest first."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items


#: Makes the live session and its source's blocks, on the acquisition loop (a Bluetooth
#: source must be opened on the loop that uses it).
Prepare = Callable[[], Awaitable[tuple[LiveSession, Callable[[], AsyncIterator[Block]]]]]


class Acquisition:
    """Runs a source through a live session in a thread with its own asyncio loop.

    Parameters
    ----------
    prepare
        Opens the source and its session (called on the acquisition loop).
    duration_s
        Stop after this much stream time (None: until the source ends or :meth:`stop`).
    frame_queue
        Frames kept for a window that falls behind.
    again
        Asked when the stream ended: whether to prepare a new session and stream again (a
        replay that seeks). Each run has its own :attr:`epoch`, and the queues carry
        ``((epoch, generation), item)`` pairs (generation: the session's restarts, see
        :class:`~emg.ui.session_control.SessionControl`), so the window can start afresh.
    folder_for
        Where a recording started from the window goes (None: not offered).
    """

    def __init__(
        self,
        prepare: Prepare,
        duration_s: float | None = None,
        frame_queue: int = FRAME_QUEUE,
        again: Callable[[], bool] | None = None,
        folder_for: FolderFor | None = None,
    ) -> None:
        self._prepare, self.duration_s, self._again = prepare, duration_s, again
        self._folder_for = folder_for
        self.control: SessionControl | None = None
        self.frames: BoundedQueue[tuple[Tag, DisplayFrame]] = BoundedQueue(frame_queue)
        self.events: BoundedQueue[tuple[Tag, Event]] = BoundedQueue(EVENT_QUEUE)
        self.epoch = 0
        self.session: LiveSession | None = None
        self.stopped_by: str | None = None
        self.error: BaseException | None = None
        self._k = 3.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop_reason: str | None = None
        self._stop_lock = threading.RLock()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="emg-acquisition", daemon=True)

    def _take_over(self, session: LiveSession) -> None:
        """Route the session's output and events to the window's queues."""
        self._k = session.config.chain.k
        forward = session.listener
        before = session.output_listener  # another sink (an LSL outlet) keeps its own

        def on_output(block: Block, output: PipelineOutput) -> None:
            self._on_output(block, output)
            if before is not None:
                before(block, output)

        session.output_listener = on_output

        def on_events(events: list[Event]) -> None:
            tag = (self.epoch, session.generation)
            for event in events:
                self.events.put((tag, event))
            if forward is not None:
                forward(events)

        session.listener = on_events
        self.session = session

    def _on_output(self, block: Block, output: PipelineOutput) -> None:
        session = self.session
        generation = session.generation if session is not None else 0
        settle = session.pipeline.chain.settle if session is not None else 0
        frame = display_frame(block, output, self._k, settle)
        self.frames.put(((self.epoch, generation), frame))

    def start(self) -> LiveSession | None:
        """Start the thread; returns the session once the source is open, or None when
        :meth:`stop` came first (:attr:`stopped_by` says why).

        Raises
        ------
        BaseException
            What opening the source raised (no sensor found ...).
        """
        self._thread.start()
        self._ready.wait()
        if self.session is None:
            self._thread.join()
            if self.error is not None:
                raise self.error
            if self._stop_reason is None:
                raise RuntimeError("the source did not open")
        return self.session

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except asyncio.CancelledError:
            self.stopped_by = self._stop_reason or "interrupt"
        except BaseException as error:  # shown by the caller; the session was finalised
            self.error = error
            self.stopped_by = "error"
        finally:
            self._ready.set()

    async def _main(self) -> None:
        with self._stop_lock:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            if self._stop_reason is not None:
                raise asyncio.CancelledError(self._stop_reason)
        while True:
            session, blocks = await self._prepare()
            self.epoch += 1
            self.control = SessionControl(session, self._folder_for)
            self._take_over(session)
            self._ready.set()
            steered = self.control.steer(blocks())
            self.stopped_by = await run_session(steered, session, self.duration_s)
            if self._again is None or not self._again():
                break

    def note(self, events: list[Event]) -> None:
        """Record events from the window (a set mark ...) on the acquisition loop."""
        loop, session = self._loop, self.session
        if loop is not None and session is not None and self.running:
            _call_on(loop, session.note, events)

    def stop(self, reason: str = "window closed") -> None:
        """Stop the source; the session finalises (the recording is closed) and keeps
        ``reason`` as ``stopped_by``. Only the first call counts; safe from any thread (and
        from a signal handler), also before the source is open."""
        with self._stop_lock:
            if self._stop_reason is not None or self.finished:
                return
            self._stop_reason = reason
            loop, task = self._loop, self._task
        if loop is not None and task is not None and self.running:
            _call_on(loop, task.cancel, reason)

    @property
    def finished(self) -> bool:
        """Whether the acquisition thread ran and ended."""
        return self._thread.ident is not None and not self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; whether it ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        """Whether the acquisition thread is still going."""
        return self._thread.is_alive()


def _call_on(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: Any) -> None:
    """Run ``callback(*args)`` on ``loop`` from another thread. The loop may close between
    the caller's check that the acquisition is running and this call (the source ended just
    then): the session has finalised by itself, and there is nothing left to do."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        if not loop.is_closed():
            raise
