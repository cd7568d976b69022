"""Recording, exercise switches and the guided calibration, asked for mid-stream, on
synthetic sets with known truth; each recording replays to exactly what was shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from emg.analysis.calibration_guide import GuideConfig
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.session_events import outcome
from emg.analysis.settings import settings_from_dict
from emg.block import Block
from emg.events import Event
from emg.io.open_recording import open_recording
from emg.recording import Recording
from emg.session import LiveSession, run_session
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session
from emg.ui.session_control import SessionControl

BLOCK = 40  # samples (20 ms at 2 kHz)


def _stream(
    recording: Recording, control: SessionControl, asks: dict[float, tuple[str, str | None]]
) -> list[Event]:
    """Play ``recording`` through a live session steered by ``control``; at stream time
    ``t`` (s) ask ``asks[t]``. Returns every event the sessions made known, in order."""
    session = control.session
    seen: list[Event] = []
    session.listener = seen.extend

    async def source() -> AsyncIterator[Block]:
        pending = sorted(asks.items())
        async for block in replay_blocks(recording, None, BLOCK / recording.sample_rate):
            while pending and block.start / recording.sample_rate >= pending[0][0]:
                control.request(*pending.pop(0)[1])
            yield block

    asyncio.run(run_session(control.steer(source()), session))
    return seen


def _replays_as_recorded(folder: Path) -> Recording:
    recorded = open_recording(folder)
    config = settings_from_dict(recorded.metadata["analysis"])
    replay = LiveSession(recorded.channels, recorded.sample_rate, config)

    async def run() -> None:
        await run_session(replay_blocks(recorded, None), replay)

    asyncio.run(run())
    assert outcome(replay.events) == outcome(recorded.events), folder
    return recorded


def test_recording_started_and_stopped_mid_stream(tmp_path: Path) -> None:
    generated = generate_session(SynthConfig(reps=6, lead_ms=90.0, snr_db=15.0, seed=4))
    recording = generated.recording
    session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
    made = iter([tmp_path / "first", tmp_path / "second"])
    control = SessionControl(session, lambda exercise: next(made))
    _stream(recording, control, {5.0: ("record", None), 14.0: ("stop-recording", None)})
    assert control.recorded == [tmp_path / "first"]
    recorded = _replays_as_recorded(tmp_path / "first")
    # samples 5 s to 14 s of the stream, exactly
    start = round(5.0 * recording.sample_rate / BLOCK) * BLOCK
    assert recorded.n_samples == round(14.0 * recording.sample_rate / BLOCK) * BLOCK - start
    np.testing.assert_array_equal(recorded.data, recording.data[start : start + recorded.n_samples])
    assert recorded.metadata["status"] == "complete"
    assert recorded.metadata["stopped_by"] == "stopped from the window"
    # its reps are the truth's reps in that stretch, timed from its own first sample
    reps = [e for e in recorded.events if e.kind == "rep"]
    fs = recording.sample_rate
    inside = [t for t in generated.truth["reps"] if start / fs + 0.5 < t["glute_onset_s"] < 13.0]
    assert len(reps) >= len(inside) >= 2
    for truth in inside:
        assert any(
            abs(e.data["glute_onset_s"] - (truth["glute_onset_s"] - start / fs)) < 0.05
            for e in reps
        )


def test_switching_the_exercise_starts_a_new_analysis(tmp_path: Path) -> None:
    leads = (-110.0, -120.0, -100.0, -110.0, -120.0, -100.0, -110.0, -120.0)
    recording = generate_session(SynthConfig(reps=8, lead_ms=leads, snr_db=15.0, seed=5)).recording
    session = LiveSession(
        recording.channels, recording.sample_rate, AnalysisConfig(), tmp_path / "hip"
    )
    control = SessionControl(session, lambda exercise: tmp_path / exercise)
    events = _stream(recording, control, {14.5: ("exercise", "prone-hip-extension")})
    assert control.recorded == [tmp_path / "hip", tmp_path / "prone-hip-extension"]
    hip = _replays_as_recorded(tmp_path / "hip")
    prone = _replays_as_recorded(tmp_path / "prone-hip-extension")
    # hamstring-first throughout: flagged in the hip thrust, normal in prone hip extension
    assert [e.kind for e in hip.events if e.kind == "flag"] == ["flag"]
    assert not [e for e in prone.events if e.kind == "flag"]
    assert prone.metadata["exercise"] == "prone-hip-extension"
    assert hip.metadata["stopped_by"] == "exercise switched to prone-hip-extension"
    assert sum(e.kind == "rep" for e in events) == 8  # no rep lost at the switch
    assert len([e for e in prone.events if e.kind == "rep"]) == 4


def test_guided_calibration_sets_the_baseline_and_is_recorded(tmp_path: Path) -> None:
    """Quality check and rest on a quiet start (the MVC steps left out), then the set: the
    session starts again from the calibration's first sample, with its rest as the baseline
    and no rep before its end, and its recording replays exactly."""
    generated = generate_session(
        SynthConfig(reps=4, rest_s=24.0, lead_ms=(90.0, -110.0, -120.0, 95.0), seed=6)
    )
    recording = generated.recording
    session = LiveSession(
        recording.channels, recording.sample_rate, AnalysisConfig(), tmp_path / "before"
    )
    control = SessionControl(session, lambda exercise: tmp_path / "calibrated", GuideConfig())
    asks = {1.0: ("calibrate", None), 1.5: ("skip-mvc", None)}
    _stream(recording, control, asks)
    assert control.recorded == [tmp_path / "before", tmp_path / "calibrated"]
    before = open_recording(tmp_path / "before")
    assert before.metadata["stopped_by"] == "calibration started"
    calibrated = _replays_as_recorded(tmp_path / "calibrated")
    fs = recording.sample_rate
    origin = round(1.0 * fs / BLOCK) * BLOCK
    np.testing.assert_array_equal(
        calibrated.data, recording.data[origin : origin + calibrated.n_samples]
    )
    assert calibrated.n_samples == recording.n_samples - origin
    config = settings_from_dict(calibrated.metadata["analysis"])
    rest = config.chain.rest
    assert rest is not None and rest[1] - rest[0] >= 2.0 and rest[1] < 23.0 - origin / fs
    assert config.chain.settle_s >= rest[1]
    guided = calibrated.metadata["calibration"]["guided"]
    assert guided["result"]["rest_s"] == list(rest)
    kinds = {e.data.get("kind") for e in calibrated.events if e.kind == "calibration"}
    assert {"phase", "quality", "step-done", "skipped", "done"} <= kinds
    # the set after it: every rep, the right orders, nothing from the calibration
    reps = [e for e in calibrated.events if e.kind == "rep"]
    orders = [e.data["order"] for e in reps]
    assert orders == ["glute-first", "hamstring-first", "hamstring-first", "glute-first"]
    first = generated.truth["reps"][0]["glute_onset_s"] - origin / fs
    assert abs(reps[0].data["glute_onset_s"] - first) < 0.05
