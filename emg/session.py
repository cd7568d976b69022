"""A live session: blocks from a source go to the recorder first, then through the analysis.

The same loop serves ``emg record``, ``emg replay`` and ``emg live`` (the window): every
block is written before it is analysed, so a slow or failing analysis never costs recorded
data; what the analysis makes known is written as events and handed to a listener (the
console, the window).

A session stops the same way whatever stops it: the end of its source, ``--duration``, Q in
the window, closing the window, or a signal (Ctrl-C, ``SIGTERM``, ``SIGHUP``; see
:class:`StopSignals`). Its analysis is flushed, its recording finalised, and the reason kept
as ``stopped_by``. A recorder that cannot write (disk full) stops the stream with
:class:`~emg.io.session_writer.RecordingStopped` after finishing what it holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from emg.analysis.offline import too_short_for_baseline
from emg.analysis.pipeline import AnalysisConfig, PipelineOutput, SessionPipeline
from emg.analysis.session_events import no_signal_events, pipeline_events
from emg.analysis.settings import settings_to_dict
from emg.block import Block, Channel
from emg.events import Event
from emg.io.session_writer import RecordingStopped, SessionWriter

Listener = Callable[[list[Event]], None]
OutputListener = Callable[[Block, PipelineOutput], None]


class LiveSession:
    """Recorder plus analysis of one stream.

    Parameters
    ----------
    channels, sample_rate
        Of the stream.
    config
        Analysis settings (kept in the session's metadata).
    folder
        Session folder to record into; None analyses without recording.
    metadata
        More to keep in ``session.json`` (exercise, subject, sensors, source ...).
    listener
        Called with the events of every block as soon as they are known.
    keep_events
        Keep every event in :attr:`events` (a replay does, to compare; a long recording need
        not: its events are on disk, and :attr:`counts` counts them by kind).
    output_listener
        Called with every block and what the analysis made of it (the live window draws the
        filtered signal and envelope), after the block was recorded and before its events.
    """

    def __init__(
        self,
        channels: tuple[Channel, ...],
        sample_rate: float,
        config: AnalysisConfig,
        folder: str | Path | None = None,
        metadata: Mapping[str, Any] | None = None,
        listener: Listener | None = None,
        keep_events: bool = True,
        output_listener: OutputListener | None = None,
    ) -> None:
        self.channels, self.sample_rate, self.config = channels, sample_rate, config
        self.pipeline = SessionPipeline(channels, sample_rate, config)
        self.folder = Path(folder) if folder is not None else None
        self.metadata = dict(metadata or {})
        self.listener = listener
        self.output_listener = output_listener
        self.last_output: PipelineOutput | None = None
        self.writer: SessionWriter | None = None
        #: Folders asked for -> the folders recorded into, where another recording had
        #: taken the name first (see :func:`emg.io.session_writer.claim_folder`).
        self.claimed: dict[Path, Path] = {}
        self.keep_events = keep_events
        self.events: list[Event] = []
        self.counts: Counter[str] = Counter()
        #: Each rep's side (None in a set of one side), in the order the reps ended.
        self.rep_sides: list[str | None] = []
        self.n_samples = 0
        self.finished = False
        self.stopped_by: str | None = None
        self.failure: RecordingStopped | None = None
        self.generation = 0
        self._origin: int | None = None
        self.pending_notes: list[Event] = []
        #: Where the source keeps samples it received but has not handed out yet (a Bluetooth
        #: source's assembler): taken into the recording when the session is stopped.
        self.drain: Callable[[], list[Block]] | None = None
        #: The folders recorded into whose recording ended too short to analyse, and why, in
        #: the words ``emg analyze`` refuses them with
        #: (:func:`~emg.analysis.offline.too_short_for_baseline`); every sample is kept.
        self.too_short: dict[Path, str] = {}

    def restart(
        self,
        config: AnalysisConfig | None = None,
        folder: str | Path | None = None,
        metadata: Mapping[str, Any] | None = None,
        stopped_by: str = "restarted",
    ) -> list[Event]:
        """Start a new session on the same stream from the next block fed: a fresh analysis
        (with ``config``, else the same settings), recording into ``folder`` (None: not
        recording). The current one is finished first (its recording finalised).

        The stream index of the next block fed becomes sample 0 of the new session, so a
        recording started mid-stream is a session of its own whose replay gives exactly what
        its live analysis gave. :attr:`generation` counts the restarts.

        Returns
        -------
        list of Event
            What finishing the current session made known.
        """
        events = self.finish(stopped_by)
        self.config = config or self.config
        self.pipeline = SessionPipeline(self.channels, self.sample_rate, self.config)
        self.folder = Path(folder) if folder is not None else None
        self.metadata = {**self.metadata, **(metadata or {})}
        self.writer, self.last_output = None, None
        self.n_samples, self.finished = 0, False
        self.generation += 1
        self._origin = None
        return events

    def stop_recording(self, stopped_by: str) -> None:
        """Finalise the recording; the analysis goes on. A channel stuck at one value when
        it stops has its stretch so far recorded (as the recording's summary gives it)."""
        writer, self.writer, self.folder = self.writer, None, None
        if writer is not None:
            stuck = self.pipeline.chain.open_stuck()
            if stuck:
                events = no_signal_events(stuck, self.channels, self.sample_rate)
                self._guard(lambda: writer.write_events(events))
            self._guard(lambda: writer.close(stopped_by=stopped_by))
            self._note_length(writer)

    def _note_length(self, writer: SessionWriter) -> None:
        """Keep in :attr:`too_short` the finished recording of ``writer`` when it holds too
        few samples for the analysis it was recorded with to start."""
        reason = too_short_for_baseline(writer.n_samples, self.sample_rate, self.config.chain)
        if reason is not None and writer.n_samples > 0:
            self.too_short[writer.folder] = reason

    def _guard(self, write: Callable[[], None]) -> None:
        """Do a write of the recorder; when it fails, the recording is over (the writer
        finished it) and the failure is raised by :meth:`feed` and :meth:`finish`."""
        try:
            write()
        except RecordingStopped as error:
            self.writer, self.folder = None, None
            self.failure = self.failure or error

    def feed(self, block: Block) -> list[Event]:
        """Record one block, analyse it, record and pass on what it made known."""
        if self._origin is None:
            self._origin = block.start if self.generation else 0
        if self._origin:
            block = dataclasses.replace(block, start=block.start - self._origin)
        if self.failure is not None:
            raise self.failure
        if self.folder is not None and self.writer is None:
            try:
                self.writer = SessionWriter(
                    self.folder,
                    self.channels,
                    self.sample_rate,
                    {**self.metadata, "t0": block.t0, "analysis": settings_to_dict(self.config)},
                )
            except RecordingStopped as error:
                self.folder, self.failure = None, error
                raise
            if self.writer.folder != self.folder:
                self.claimed[self.folder] = self.writer.folder
                self.folder = self.writer.folder
        writer = self.writer
        if writer is not None:
            self._guard(lambda: writer.write_block(block))
            if self.failure is not None:
                raise self.failure
        if self.pending_notes:  # events known before this session's first block
            notes, self.pending_notes = self.pending_notes, []
            self._emit(notes)
        self.n_samples = block.stop
        output = self.pipeline.process(block)
        self.last_output = output
        if self.output_listener is not None:
            self.output_listener(block, output)
        return self._emit(pipeline_events(output, self.channels, self.sample_rate))

    def note(self, events: list[Event]) -> None:
        """Record events that come from outside the analysis (disconnects, markers ...); those
        that come before the first block are kept until the recording opens with it; those
        that come after :meth:`finish` (a source still winding down) belong to no session."""
        if self.finished:
            return
        if self.folder is not None and self.writer is None:
            self.pending_notes.extend(events)
            return
        self._emit(events)

    def _emit(self, events: list[Event]) -> list[Event]:
        if not events:
            return events
        writer = self.writer
        if writer is not None:
            self._guard(lambda: writer.write_events(events))
        if self.keep_events:
            self.events.extend(events)
        self.counts.update(e.kind for e in events)
        self.rep_sides.extend(e.data.get("side") for e in events if e.kind == "rep")
        if self.listener is not None:
            self.listener(events)
        return events

    def finish(self, stopped_by: str) -> list[Event]:
        """End of the stream: close open bursts and reps, and finalise the recording.

        Raises
        ------
        RecordingStopped
            When the recorder failed (now or before): the session on disk is finished with
            what it holds.
        """
        if self.finished:
            return []
        self.finished = True
        self.stopped_by = stopped_by
        events = self._emit(pipeline_events(self.pipeline.flush(), self.channels, self.sample_rate))
        writer = self.writer
        if writer is not None:
            self._guard(lambda: writer.close(stopped_by=stopped_by))
            self._note_length(writer)
        if self.failure is not None:
            raise self.failure
        return events


async def run_session(
    blocks: AsyncIterator[Block], session: LiveSession, duration_s: float | None = None
) -> str:
    """Feed a source into a session until it ends, ``duration_s`` of stream has passed, or the
    task is cancelled (Ctrl-C); the session is finalised in every case.

    Stopped other than by ``duration_s`` or a failure, the session first takes what its source
    received but had not handed out yet (:attr:`LiveSession.drain`), so that stopping a set
    loses none of the samples that already reached the host.

    Returns
    -------
    str
        Why it stopped: ``end of source``, ``duration``, or the reason the task was cancelled
        with (``interrupt`` when none).
    """
    limit = None if duration_s is None else round(duration_s * session.sample_rate)
    stopped_by = "interrupt"
    failed = False
    try:
        async for block in blocks:
            if limit is not None and block.start >= limit:
                stopped_by = "duration"
                break
            session.feed(block)
            if limit is not None and block.stop >= limit:
                stopped_by = "duration"
                break
        else:
            stopped_by = "end of source"
    except asyncio.CancelledError as error:
        stopped_by = cancel_reason(error)
        raise
    except BaseException:
        failed = True
        raise
    finally:
        try:
            if not failed and stopped_by != "duration":
                _feed_remaining(session, limit)
        finally:
            session.finish(stopped_by)
            close = getattr(blocks, "aclose", None)
            if close is not None:  # stop the source now (disconnect sensors), not at exit
                await close()
    return stopped_by


def _feed_remaining(session: LiveSession, limit: int | None) -> None:
    """Feed the session what its source received but had not handed out (once), up to the
    block that reaches ``limit`` samples (``duration_s``), as the stream itself is fed."""
    drain, session.drain = session.drain, None
    if drain is None or session.finished or session.failure is not None:
        return
    for block in drain():
        if limit is not None and block.start >= limit:
            break
        session.feed(block)


def cancel_reason(error: asyncio.CancelledError) -> str:
    """The reason a task was cancelled with (``task.cancel(reason)``), else ``interrupt``."""
    reason = error.args[0] if error.args else None
    return reason if isinstance(reason, str) and reason else "interrupt"


#: Signals that stop a session as its end does, and the reason each is kept under.
STOP_SIGNALS: dict[int, str] = {
    int(signal.SIGINT): "interrupt",
    int(signal.SIGTERM): "SIGTERM",
    **({int(signal.SIGHUP): "SIGHUP"} if hasattr(signal, "SIGHUP") else {}),
}

Stop = Callable[[str], None]


class StopSignals:
    """Ctrl-C, ``SIGTERM`` and ``SIGHUP`` as a request to stop, for as long as the ``with``
    block lasts (the previous handlers come back after it).

    The first signal calls the stop function given to :meth:`on_stop` (when one is set) with
    its reason (:data:`STOP_SIGNALS`); later ones are noted and ignored, so finishing and
    exporting a session is not cut short. The handlers run in the main thread (Python
    signal handlers); a stop function must only schedule the stop on its loop.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._stop: Stop | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def on_stop(self, stop: Stop | None) -> None:
        """Call ``stop(reason)`` on the first signal (at once if one came already)."""
        self._stop = stop
        if stop is not None and self.received is not None:
            stop(self.received)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = STOP_SIGNALS.get(number, f"signal {number}")
        if self._stop is not None:
            self._stop(self.received)


def run_until_stopped(main: Callable[[], Coroutine[Any, Any, str]], signals: StopSignals) -> str:
    """Run a session coroutine on a new event loop; a stop signal cancels it with its reason
    (the session finalises itself, see :func:`run_session`).

    Returns
    -------
    str
        What ``main`` returned, or the reason it was cancelled.
    """

    async def guarded() -> str:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None

        def stop(reason: str) -> None:
            loop.call_soon_threadsafe(task.cancel, reason)

        signals.on_stop(stop)
        try:
            return await main()
        finally:
            signals.on_stop(None)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError as error:
        return cancel_reason(error)
    except KeyboardInterrupt:
        return "interrupt"
