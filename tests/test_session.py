"""run_session: what a stopped session takes from its source's hold (LiveSession.drain); a
recording too short to analyse is noted (LiveSession.too_short)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block
from emg.io.open_recording import open_recording
from emg.recording import Recording
from emg.session import LiveSession, run_session
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session

BLOCK = 100


@pytest.fixture(scope="module")
def recording() -> Recording:
    return generate_session(SynthConfig(reps=2, seed=4)).recording


def _blocks(recording: Recording) -> list[Block]:
    return list(recording.blocks(BLOCK))


async def _stopped(
    recording: Recording, fed: int, held: int, duration_s: float | None = None
) -> LiveSession:
    """A source that hands out ``fed`` blocks, holds the next ``held`` back (its drain), and
    is stopped as Ctrl-C stops it."""
    blocks = _blocks(recording)
    given = asyncio.Event()

    async def source() -> AsyncIterator[Block]:
        for block in blocks[:fed]:
            yield block
        given.set()
        await asyncio.Event().wait()  # nothing more until stopped
        yield blocks[0]  # never reached

    session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
    session.drain = lambda: blocks[fed : fed + held]
    task = asyncio.create_task(run_session(source(), session, duration_s))
    await given.wait()
    await asyncio.sleep(0)
    task.cancel("interrupt")
    with pytest.raises(asyncio.CancelledError):
        await task
    return session


def test_a_stopped_session_takes_what_its_source_held(recording: Recording) -> None:
    session = asyncio.run(_stopped(recording, fed=30, held=3))
    assert session.n_samples == 33 * BLOCK and session.stopped_by == "interrupt"
    assert session.drain is None  # taken once


def test_what_the_source_held_is_taken_only_up_to_the_duration(recording: Recording) -> None:
    # --duration 3.15 s at 2 kHz: 6300 samples, reached by the 63rd block of 100
    fs = recording.sample_rate
    session = asyncio.run(_stopped(recording, fed=60, held=10, duration_s=6300 / fs))
    assert session.n_samples == 63 * BLOCK


def test_nothing_is_taken_after_a_failure(recording: Recording) -> None:
    blocks = _blocks(recording)

    async def failing() -> AsyncIterator[Block]:
        yield blocks[0]
        raise OSError("the sensor's stack failed")

    session = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig())
    taken: list[int] = []
    session.drain = lambda: taken.append(1) or blocks[1:3]
    with pytest.raises(OSError):
        asyncio.run(run_session(failing(), session))
    assert session.n_samples == BLOCK and taken == [] and session.finished


def test_a_recording_too_short_to_analyse_is_noted_with_its_folder(
    recording: Recording, tmp_path: Path
) -> None:
    """The recording is kept whole; the session notes that it is too short, in the words
    ``emg analyze`` refuses it with (``emg record`` and ``emg live`` say it at the end)."""
    reason = (
        "too little data for a baseline: 2.00 s (4000 samples) recorded, at least 3 s needed "
        "(ideally a quiet rest at the start)"
    )
    assert recording.sample_rate == 2000
    short = Recording(recording.data[:4000], recording.sample_rate, recording.channels)
    live = LiveSession(short.channels, short.sample_rate, AnalysisConfig(), tmp_path / "s")
    asyncio.run(run_session(replay_blocks(short, speed=None), live))
    assert live.too_short == {tmp_path / "s": reason}
    assert open_recording(tmp_path / "s").n_samples == 4000
    # a recording stopped while the analysis goes on (R in the window): what it holds counts
    live = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig(), tmp_path / "t")
    for block in recording.blocks(1000):
        live.feed(block)
        if block.stop == 4000:
            live.stop_recording("stopped")
    live.finish("end of source")
    assert live.too_short == {tmp_path / "t": reason}
    # long enough: nothing noted
    live = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig(), tmp_path / "u")
    asyncio.run(run_session(replay_blocks(recording, speed=None), live))
    assert live.too_short == {}
