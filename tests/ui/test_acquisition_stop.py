"""Stopping the acquisition: before its source opens, and by closing the window."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block
from emg.io.open_recording import open_recording
from emg.io.session_format import METADATA_FILE, SAMPLES_FILE
from emg.session import LiveSession
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session
from emg.ui.acquisition import Acquisition
from emg.ui.alert_sound import AlertSound
from emg.ui.live_state import LiveState
from emg.ui.live_window import LiveWindow


@pytest.fixture(scope="module")
def app() -> QtWidgets.QApplication:
    existing = QtWidgets.QApplication.instance()
    return existing if isinstance(existing, QtWidgets.QApplication) else QtWidgets.QApplication([])


def test_stop_while_the_source_opens_gives_no_session() -> None:
    opening = threading.Event()

    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        opening.set()
        await asyncio.Event().wait()  # a scan that never finds its sensors
        raise AssertionError("not reached")

    acquisition = Acquisition(prepare)
    stopper = threading.Thread(
        target=lambda: opening.wait(60) and acquisition.stop("SIGTERM"), daemon=True
    )
    stopper.start()
    assert acquisition.start() is None
    assert acquisition.stopped_by == "SIGTERM" and acquisition.error is None
    assert acquisition.join(timeout=60)


def test_stop_before_start_is_kept() -> None:
    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        raise AssertionError("a stopped acquisition opens no source")

    acquisition = Acquisition(prepare)
    acquisition.stop("SIGHUP")
    assert acquisition.start() is None and acquisition.stopped_by == "SIGHUP"


def test_closing_the_window_finalises_the_recording(
    app: QtWidgets.QApplication, tmp_path: Path
) -> None:
    recording = generate_session(SynthConfig(reps=4, seed=3)).recording
    folder = tmp_path / "session"

    async def endless() -> AsyncIterator[Block]:
        """The recording, then nothing: like a sensor, the source never ends by itself, so
        however late the close comes on a busy machine, it is what stops the stream."""
        async for block in replay_blocks(recording, 1.0):
            yield block
        await asyncio.Event().wait()

    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig(), folder)
        return session, endless

    acquisition = Acquisition(prepare)
    session = acquisition.start()
    assert session is not None
    window = LiveWindow(LiveState(session.channels, session.sample_rate), acquisition,
                        AlertSound(enabled=False))  # fmt: skip
    window.show()
    try:
        deadline = time.monotonic() + 120
        samples = folder / SAMPLES_FILE
        while not (samples.is_file() and samples.stat().st_size >= 2000 * 8):
            assert time.monotonic() < deadline, "no samples recorded"
            app.processEvents()
            time.sleep(0.01)
        window.close()  # as Q, Esc or the title bar's close button
        assert acquisition.join(timeout=60)
    finally:
        window.close()
        window.deleteLater()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["status"] == "complete" and meta["stopped_by"] == "window closed"
    assert acquisition.stopped_by == "window closed"
    assert open_recording(folder).n_samples == meta["n_samples"] == session.n_samples
    # stopped where the close found it, keeping every sample on disk by then
    assert 2000 <= meta["n_samples"] <= recording.n_samples


def test_stopping_as_the_loop_closes_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # the window closes just as the source ends: the acquisition thread still counts as
    # running when stop() looks, and its loop is closed when stop() calls into it
    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        raise AssertionError("never started")

    acquisition = Acquisition(prepare)
    closed = asyncio.new_event_loop()
    closed.close()
    cancelled: list[object] = []

    class Task:
        def cancel(self, reason: object) -> None:
            cancelled.append(reason)

    monkeypatch.setattr(Acquisition, "running", property(lambda self: True))
    acquisition._loop, acquisition._task = closed, Task()  # type: ignore[assignment]
    acquisition.stop("window closed")  # nothing left to stop, and no error
    noted: list[object] = []

    class Session:
        def note(self, events: object) -> None:
            noted.append(events)

    acquisition.session = Session()  # type: ignore[assignment]
    acquisition.note([])  # nor for a mark that comes too late to be recorded
    assert noted == []
    assert cancelled == []
