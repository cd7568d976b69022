"""The live window, off screen: fed by a real acquisition thread, drawn, saved, closed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block
from emg.cli import main
from emg.dsp.chain import ChainConfig
from emg.io.open_recording import open_recording
from emg.session import LiveSession
from emg.sources.replay import replay_blocks
from emg.sources.replay_control import ReplayControl, steered_replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session
from emg.ui.acquisition import Acquisition
from emg.ui.alert_sound import AlertSound
from emg.ui.live_state import LiveState
from emg.ui.live_window import LiveWindow
from emg.wording import BANNER_TEXT

LEADS = (90.0, -110.0, -120.0, -100.0, -110.0)


@pytest.fixture(scope="module")
def app() -> QtWidgets.QApplication:
    existing = QtWidgets.QApplication.instance()
    return existing if isinstance(existing, QtWidgets.QApplication) else QtWidgets.QApplication([])


def _acquisition(
    folder: Path | None, speed: float | None = None, reps: int = 5, frame_queue: int = 1000
) -> tuple[Acquisition, Callable[[], LiveSession]]:
    recording = generate_session(
        SynthConfig(reps=reps, lead_ms=LEADS[:reps], snr_db=15.0, seed=2, loss=0.005)
    ).recording

    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig(), folder)
        return session, lambda: replay_blocks(recording, speed)

    acquisition = Acquisition(prepare, frame_queue=frame_queue)
    return acquisition, lambda: acquisition.start()


@pytest.fixture
def window(app: QtWidgets.QApplication) -> Iterator[LiveWindow]:
    acquisition, start = _acquisition(None)
    session = start()
    state = LiveState(session.channels, session.sample_rate)
    window = LiveWindow(state, acquisition, AlertSound(enabled=False))
    window.resize(1280, 860)
    window.show()
    yield window
    window.close()
    window.deleteLater()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)


def _pump_until(
    app: QtWidgets.QApplication,
    condition: Callable[[], bool],
    limit_s: float = 60.0,
    failure: str = "",
) -> float:
    """Process Qt events until ``condition`` holds (it must, within ``limit_s``); the seconds
    it took. Nothing waits for a fixed time: a loaded machine only takes longer."""
    start = time.monotonic()
    while not condition() and time.monotonic() < start + limit_s:
        app.processEvents()
        time.sleep(0.005)
    assert condition(), failure
    return time.monotonic() - start


def _run_until_finished(app: QtWidgets.QApplication, window: LiveWindow, limit_s: float) -> None:
    _pump_until(
        app, lambda: window.finished, limit_s, "the window did not see the end of the stream"
    )


def test_window_draws_the_set_and_warns(
    app: QtWidgets.QApplication, window: LiveWindow, tmp_path: Path
) -> None:
    _run_until_finished(app, window, 60)
    state = window.state
    # the warning: banner up with its words, one audible cue requested
    assert window.banner.isVisible()
    assert window.banner.text().startswith(BANNER_TEXT["hamstring-first"])
    assert window.sound.requested == 1 and window.sound.played == 0  # --no-sound
    assert window.risk.text() in ("Cramp risk: WATCH", "Cramp risk: WARNING")
    # a tile per rep with who led and the ratio
    shown = [w for w in window.tile_widgets if w.isVisible()]
    assert len(shown) == 5
    assert shown[1].order.text().startswith("hamstrings first by")
    assert shown[0].order.text().startswith("glutes first by")
    assert all(w.ratio.text().startswith("G:H ") for w in shown)
    # traces: the last span of both muscles, the threshold, the onsets
    x, _ = window.envelope_items[0].getData()
    assert x is not None and len(x) > 0 and x[-1] == pytest.approx(state.time_s, abs=0.01)
    assert all(line.isVisible() for line in window.threshold_items)
    assert all(len(item.getData()[0]) >= 2 for item in window.onset_items)
    reps, ratios = window.trend_item.getData()
    assert list(reps) == [1, 2, 3, 4, 5]
    assert list(ratios) == pytest.approx([r for _, _, r in state.ratios])
    # the screenshot is the window as drawn: the banner's orange is in it
    path = tmp_path / "live.png"
    window.screenshot(path)
    image = QtGui.QImage(str(path))
    assert image.width() == window.width() and image.height() == window.height()
    pixels = [
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 16)
        for y in range(0, image.height() // 6, 8)
    ]
    assert "#d55e00" in pixels


def test_keys_mark_a_set_toggle_sound_and_help(
    app: QtWidgets.QApplication, window: LiveWindow
) -> None:
    app.processEvents()
    window.mark_set()
    assert window.state.marks and window.state.marks[0][1] == "set 1"
    sound = window.sound.enabled
    window.toggle_sound()
    assert window.sound.enabled is not sound
    assert not window.help.isVisible()
    window.toggle_help()
    assert window.help.isVisible() and "mark the start of a set" in window.help.text()
    assert "gluteus maximus" in window.help.text() and "semitendinosus" in window.help.text()


def test_a_window_that_never_draws_loses_no_recorded_sample(tmp_path: Path) -> None:
    """The window reads bounded queues; if it stalls, frames are dropped, never samples."""
    folder = tmp_path / "session"
    acquisition, start = _acquisition(folder, speed=None, reps=3, frame_queue=10)
    start()
    assert acquisition.join(timeout=60)
    assert acquisition.stopped_by == "end of source" and acquisition.error is None
    assert acquisition.frames.dropped > 0
    recording = open_recording(folder)
    session = acquisition.session
    assert session is not None and recording.n_samples == session.n_samples
    assert recording.metadata.get("status") == "complete"
    assert np.isfinite(recording.data).all()


def _with_screenshot(argv: list[str], shot: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``emg ARGV --screenshot SHOT --no-sound`` in its own process (Qt off screen)."""
    return subprocess.run(
        [sys.executable, "-m", "emg", *argv, "--screenshot", str(shot), "--no-sound"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_emg_live_saves_a_screenshot_headless(tmp_path: Path) -> None:
    path = tmp_path / "out.png"
    result = _with_screenshot(
        ["live", "--source", "synthetic", "--duration", "8"], path, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"screenshot saved to {path}" in result.stdout
    assert "stopped (duration) after 8.0 s" in result.stdout
    image = QtGui.QImage(str(path))
    assert image.width() >= 800 and image.height() >= 600
    assert not (tmp_path / "recordings").exists()  # synthetic: not recorded unless asked


def test_emg_live_rejects_a_bad_source() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emg", "live", "--source", "replay"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "--source replay needs one PATH" in result.stderr


def test_replay_in_the_window_pauses_seeks_and_changes_speed(
    app: QtWidgets.QApplication,
) -> None:
    recording = generate_session(SynthConfig(reps=5, lead_ms=LEADS, snr_db=15.0, seed=2)).recording
    control = ReplayControl(recording.duration_s, speed=4.0)

    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        start = control.take_seek() or 0.0
        session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
        return session, lambda: steered_replay_blocks(recording, control, start)

    acquisition = Acquisition(prepare, again=lambda: control.seek_pending)
    began = time.monotonic()  # the stream starts playing from here, not from the first pump
    session = acquisition.start()
    state = LiveState(session.channels, session.sample_rate)
    window = LiveWindow(state, acquisition, AlertSound(enabled=False), control=control)
    window.show()

    def pump(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)

    block_s = 0.02  # the replay's blocks

    try:
        _pump_until(app, lambda: window.state.time_s > 1.0)
        assert window.state.time_s <= 4.0 * (time.monotonic() - began) + 0.5  # not above 4x
        # seek ahead while paused: a fresh analysis from the first sample, as fast as it
        # goes, up to the target, where the pause holds it
        window.toggle_pause()
        assert window.play_button.text() == "Play"
        window.seek(10.0)
        _pump_until(app, lambda: window.epoch == (2, 0) and window.state.time_s >= 10.0 - block_s)
        held = window.state.time_s
        assert held <= 10.0
        pump(0.5)
        assert window.state.time_s == held
        # playing again goes on from there, in the same analysis, to the end (20 s)
        window.toggle_pause()
        assert window.play_button.text() == "Pause"
        elapsed = _pump_until(app, lambda: window.state.time_s >= 20.0 - block_s)
        assert 20.0 - held <= 4.0 * elapsed + 0.5
        assert window.epoch == (2, 0)
        assert [t.index for t in window.state.tiles] == [1, 2, 3, 4, 5]
        assert window.banner.isVisible()  # reps 2-5 led by the hamstrings: the flag is up
        assert window.position.value() == round(window.state.time_s * 10)
        # and back: the state starts again, with only the reps up to the target
        window.toggle_pause()
        window.seek(4.0)
        _pump_until(app, lambda: window.epoch == (3, 0) and window.state.time_s >= 4.0 - block_s)
        assert window.state.time_s <= 4.0
        assert len(window.state.tiles) <= 1
        window.step_speed(+1)
        assert control.speed == 8.0
    finally:
        window.close()
        window.deleteLater()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    assert not acquisition.running


def test_calibration_and_recording_from_the_keyboard(
    app: QtWidgets.QApplication, tmp_path: Path
) -> None:
    from PySide6.QtTest import QTest

    recording = generate_session(
        SynthConfig(reps=3, rest_s=22.0, lead_ms=(90.0, 95.0, 85.0), seed=6)
    ).recording

    async def prepare() -> tuple[LiveSession, Callable[[], AsyncIterator[Block]]]:
        session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
        return session, lambda: replay_blocks(recording, 8.0)

    acquisition = Acquisition(prepare, folder_for=lambda exercise: tmp_path / exercise)
    session = acquisition.start()
    state = LiveState(session.channels, session.sample_rate)
    window = LiveWindow(state, acquisition, AlertSound(enabled=False))
    window.show()
    window.activateWindow()

    try:
        _pump_until(app, lambda: window.state.time_s > 0.5)
        QTest.keyClick(window, QtCore.Qt.Key.Key_R)  # record ...
        QTest.keyClick(window, QtCore.Qt.Key.Key_C)  # ... a calibrated session
        _pump_until(app, lambda: window.calibration_panel.isVisible())
        assert window.calibration_step.text().startswith("Calibration — step 1 of 4")
        assert "keep still" in window.calibration_prompt.text()
        assert window.calibration_countdown.text().endswith(" s")
        assert "recording once calibrated" in window.status.text()
        QTest.keyClick(window, QtCore.Qt.Key.Key_N)  # no MVC
        _pump_until(app, lambda: not window.calibration_panel.isVisible())
        _pump_until(app, lambda: window.epoch[1] >= 2)  # recording, then calibrated: restarts
        _pump_until(app, lambda: window.finished)
        # the folder in full where it fits, else its name
        status = window.status.text()
        assert f"recording into {tmp_path / 'hip-thrust'}" in status or (
            "recording into …/hip-thrust" in status
        )
        assert [t.order for t in window.state.tiles] == ["glute-first"] * 3
    finally:
        window.close()
        window.deleteLater()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    assert acquisition.control is not None
    assert acquisition.control.recorded == [tmp_path / "hip-thrust"]
    recorded = open_recording(tmp_path / "hip-thrust")
    assert recorded.metadata["analysis"]["chain"]["rest"] is not None
    assert len([e for e in recorded.events if e.kind == "rep"]) == 3


def test_window_at_1280x720_keeps_its_traces_and_whole_texts(app: QtWidgets.QApplication) -> None:
    acquisition, start = _acquisition(None)
    session = start()
    state = LiveState(session.channels, session.sample_rate)
    state.band, state.ratio_band = (60.0, 25.0), (1.0, 0.2)
    window = LiveWindow(state, acquisition, AlertSound(enabled=False))
    window.resize(1280, 720)
    window.show()
    try:
        _run_until_finished(app, window, 60)
        app.processEvents()
        assert window.banner.isVisible()  # the tallest moment: the warning is up
        # the traces keep at least 40 % of the height, each plot a usable one
        assert window.graphs.height() >= 0.4 * window.height()
        assert all(plot.vb.height() >= 100 for plot in window.plots)
        # each threshold inside its fixed range, clear of zero, labelled
        for plot, line in zip(window.plots, window.threshold_items, strict=True):
            low, high = plot.vb.viewRange()[1]
            assert low < 0 < line.value() < high and line.label.isVisible()
        # the ratio trend on its fixed scale, the athlete's band shaded
        assert window.trend.getViewBox().viewRange()[1] == pytest.approx([0.0, 2.5])
        assert window.ratio_band.isVisible()
        assert window.ratio_band.getRegion() == pytest.approx((0.8, 1.2))
        # the status line whole, the tiles' words whole
        text = window.status.text()
        assert window.status.fontMetrics().horizontalAdvance(text) <= window.status.width()
        assert text.endswith("H: help")
        for tile in (w for w in window.tile_widgets if w.isVisible()):
            assert tile.order.wordWrap() and tile.order.height() >= tile.order.heightForWidth(
                tile.order.width()
            )
    finally:
        window.close()
        window.deleteLater()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)


def test_a_screenshot_that_cannot_be_written_is_one_line_and_no_hang(tmp_path: Path) -> None:
    recording = tmp_path / "set.csv"
    assert main(["synth", str(recording), "--reps", "2", "--seed", "3"]) == 0
    command = ["replay", str(recording), "--speed", "max"]
    for shot, said in [
        (tmp_path / "missing" / "s.png", "{shot}: cannot write the screenshot: no such folder"),
        (tmp_path, "{shot}: the screenshot would replace a folder"),
        # refused before the stream (it was found out only when the picture was saved, after
        # the whole set had played)
        (
            tmp_path / "s.unknown-format",
            "command line: --screenshot: a screenshot is written as .png, which "
            "'s.unknown-format' does not end in",
        ),
    ]:
        result = _with_screenshot(command, shot, cwd=tmp_path)
        assert result.returncode == 2, result.stderr[-2000:]
        # one line of ours (older Qt releases add notes of their own, e.g. on QStyleHints)
        ours = [line for line in result.stderr.splitlines() if line.startswith("emg")]
        message = said.format(shot=shot)
        assert ours == [f"emg: error: {message}"] and "Traceback" not in result.stderr


def test_a_recording_played_live_is_analysed_with_its_own_settings(tmp_path: Path) -> None:
    # the example session was recorded with an older version's settings (the CUSUM's onsets,
    # a fixed settling time): played as a live source it is analysed with them, as emg replay
    # and emg analyze analyse it, not with a live stream's defaults
    example = Path(__file__).resolve().parents[2] / "recordings" / "examples"
    session = example / "hip-thrust-synthetic"
    out = tmp_path / "rec"
    argv = ["live", "--source", "replay", str(session), "--speed", "max", "--record"]
    argv += ["--out", str(out), "--no-export"]
    result = _with_screenshot(argv, tmp_path / "s.png", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    played = json.loads((folder / "session.json").read_text())["analysis"]
    recorded = json.loads((session / "session.json").read_text())["analysis"]
    # every setting it has (the ones it lacks are an older version's, filled in as replay does)
    assert {k: played["chain"][k] for k in recorded["chain"]} == recorded["chain"]
    assert played["exercise"] == recorded["exercise"]
    assert recorded["chain"]["refine_s"] != ChainConfig().refine_s  # the check can tell
