"""What the window asks of a running session: start and stop recording, switch the exercise,
and the guided calibration. Runs on the acquisition loop, between blocks.

Every change that alters the analysis starts a new session on the same stream
(:meth:`emg.session.LiveSession.restart`): a recording is then always one analysis from its
first sample, so its replay gives exactly what the window showed.

The guided calibration (:class:`~emg.analysis.calibration_guide.CalibrationGuide`) runs on the
stream as it comes, while the window shows its prompts. When it is done, the session starts
again from the calibration's first sample with what it found: the rest period as the
baseline, no onset before the calibration's end (the MVC pushes are not reps), and the MVC
amplitudes for %MVC. The calibration's samples are fed again to the new session, so they are
in its recording, with the calibration's steps as events.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np

from emg.analysis.calibration_guide import (
    CalibrationGuide,
    GuideConfig,
    GuideEvent,
    GuideStatus,
)
from emg.analysis.exercises import EXERCISES
from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block
from emg.dsp.chain import settling_time
from emg.recording import Recording
from emg.session import LiveSession

#: Makes the folder of a new recording, for an exercise's name.
FolderFor = Callable[[str], Path]


@dataclasses.dataclass(frozen=True)
class Request:
    """One thing the window asked for."""

    kind: str  # record, stop-recording, exercise, calibrate, restart-step, skip-mvc, cancel
    value: str | bool | None = None


class SessionControl:
    """Carries out the window's requests on the acquisition loop.

    Parameters
    ----------
    session
        The live session the stream feeds.
    folder_for
        Where a new recording goes (None: this stream cannot be recorded).
    guide_config
        Settings of the guided calibration.
    """

    def __init__(
        self,
        session: LiveSession,
        folder_for: FolderFor | None,
        guide_config: GuideConfig | None = None,
    ) -> None:
        self.session, self.folder_for = session, folder_for
        self.guide_config = guide_config or GuideConfig()
        self._requests: deque[Request] = deque()
        self._lock = threading.Lock()
        self.guide: CalibrationGuide | None = None
        self.guide_status: GuideStatus | None = None
        self.guide_messages: list[str] = []
        self.recorded: list[Path] = [session.folder] if session.folder is not None else []
        self._buffer: list[Block] = []
        self._guide_origin = 0
        self._record_after_calibration = False

    # ------------------------------------------------------------------ from the window

    def request(self, kind: str, value: str | bool | None = None) -> None:
        """Ask for something (thread-safe); it is done before the next block."""
        with self._lock:
            self._requests.append(Request(kind, value))

    @property
    def recording(self) -> bool:
        """Whether the session records now (or will, once the calibration is done)."""
        return self.session.folder is not None or self._record_after_calibration

    # ------------------------------------------------------------------ on the loop

    async def steer(self, blocks: AsyncIterator[Block]) -> AsyncIterator[Block]:
        """The stream, with the requests carried out between its blocks."""
        async for block in blocks:
            for again in self._handle(block):
                yield again
            if self.guide is not None:
                replay = self._calibrate(block)
                if replay:
                    for again in replay:
                        yield again
                    continue
            yield block

    def _take_requests(self) -> list[Request]:
        with self._lock:
            requests = list(self._requests)
            self._requests.clear()
        return requests

    def _handle(self, block: Block) -> list[Block]:
        for request in self._take_requests():
            if request.kind == "record":
                self._start_recording()
            elif request.kind == "stop-recording":
                self._record_after_calibration = False
                self.session.stop_recording("stopped from the window")
            elif request.kind == "exercise" and isinstance(request.value, str):
                self._switch_exercise(request.value)
            elif request.kind == "calibrate":
                self._start_calibration(block)
            elif request.kind == "restart-step" and self.guide is not None:
                self._publish(self.guide.restart_step("Starting this step again (asked)."))
            elif request.kind == "skip-mvc" and self.guide is not None:
                self._publish(self.guide.skip_mvc())
            elif request.kind == "cancel" and self.guide is not None:
                self._end_calibration()
        return []

    def _new_folder(self, config: AnalysisConfig) -> Path | None:
        if self.folder_for is None:
            return None
        base = folder = self.folder_for(config.exercise.name)
        n = 1
        while folder in self.recorded or folder.exists():  # two within one second
            n += 1
            folder = base.with_name(f"{base.name}-{n}")
        self.recorded.append(folder)
        return folder

    def _start_recording(self) -> None:
        if self.recording or self.folder_for is None:
            return
        if self.guide is not None:
            self._record_after_calibration = True
            return
        session = self.session
        session.restart(folder=self._new_folder(session.config), stopped_by="recording started")

    def _switch_exercise(self, name: str) -> None:
        if name not in EXERCISES or name == self.session.config.exercise.name:
            return
        session = self.session
        config = dataclasses.replace(session.config, exercise=EXERCISES[name])
        recording = session.folder is not None
        folder = self._new_folder(config) if recording else None
        session.restart(
            config, folder, {"exercise": name}, stopped_by=f"exercise switched to {name}"
        )

    # ------------------------------------------------------------------ calibration

    def _start_calibration(self, block: Block) -> None:
        if self.guide is not None:
            return
        session = self.session
        self._record_after_calibration = session.folder is not None
        if session.writer is None and session.folder in self.recorded:
            self.recorded.remove(session.folder)  # asked for, but not a sample written yet
        session.stop_recording("calibration started")
        self._guide_origin = block.start
        self._buffer = []
        self.guide_messages = []
        self.guide = CalibrationGuide(session.channels, session.sample_rate, self.guide_config)
        self.guide_status = self.guide.status

    def _calibrate(self, block: Block) -> list[Block]:
        """Advance the guide with a block; when it is done, the blocks to feed again."""
        guide = self.guide
        assert guide is not None
        self._buffer.append(block)
        stop = block.stop - self._guide_origin
        self._publish(guide.advance(stop, np.asarray(block.data, dtype=np.float64)))
        self.guide_status = guide.status
        if not guide.done:
            return []
        return self._apply_calibration()

    def _publish(self, events: list[GuideEvent]) -> None:
        self.guide_messages.extend(e.message for e in events if e.message)

    def _apply_calibration(self) -> list[Block]:
        guide, blocks = self.guide, self._buffer
        assert guide is not None and guide.result is not None
        result = guide.result
        session = self.session
        data = np.concatenate([b.data for b in blocks])
        recording = Recording(data=data, sample_rate=session.sample_rate, channels=session.channels)
        chain = dataclasses.replace(
            result.chain_config(session.config.chain),
            settle_s=max(
                settling_time(session.config.chain, session.sample_rate),
                len(data) / session.sample_rate,
            ),
        )
        normalisation = result.normalisation(recording, chain)
        if not normalisation.mvc_uv:
            normalisation = session.config.normalisation
        config = dataclasses.replace(session.config, chain=chain, normalisation=normalisation)
        folder = self._new_folder(config) if self._record_after_calibration else None
        metadata = {
            "calibration": {
                "rest_s": list(result.rest_s),
                "mvc_uv": dict(normalisation.mvc_uv),
                "guided": guide.to_dict(),
            }
        }
        session.restart(config, folder, metadata, stopped_by="calibrated")
        # the steps as events of the new session, written once its recording is open
        session.pending_notes.extend(e.session_event(session.sample_rate) for e in guide.history)
        self._end_calibration()
        return blocks

    def _end_calibration(self) -> None:
        self.guide = None
        self.guide_status = None
        self._buffer = []
        self._record_after_calibration = False
