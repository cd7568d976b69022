"""A steered replay: pause, speed and seek, against the recording it plays."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from emg.block import Block
from emg.recording import Recording
from emg.sources.replay_control import ReplayControl, steered_replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session


@pytest.fixture(scope="module")
def recording():  # type: ignore[no-untyped-def]
    return generate_session(SynthConfig(reps=2, seed=1, loss=0.01)).recording


def test_plays_every_sample_in_order_and_ends(recording) -> None:  # type: ignore[no-untyped-def]
    control = ReplayControl(recording.duration_s, speed=None, hold_at_end=False)

    async def collect() -> list[Block]:
        return [block async for block in steered_replay_blocks(recording, control)]

    blocks = asyncio.run(collect())
    data = np.concatenate([b.data for b in blocks])
    lost = np.concatenate([b.lost for b in blocks])
    np.testing.assert_array_equal(data, recording.data)
    np.testing.assert_array_equal(lost, recording.lost)
    assert [b.start for b in blocks] == list(range(0, recording.n_samples, 40))


def test_fast_to_the_seek_target_then_paced(
    recording: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the first sample as fast as possible up to the target, then in real time."""
    control = ReplayControl(recording.duration_s, speed=1.0, hold_at_end=False)
    fs = recording.sample_rate
    waits: list[float] = []  # every sleep the replay asks for, in order
    sleep = asyncio.sleep

    async def noted_sleep(delay: float, result: object = None) -> object:
        waits.append(delay)
        return await sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", noted_sleep)

    async def run() -> tuple[list[float], float]:
        before: list[float] | None = None
        at_target = 0.0
        async for block in steered_replay_blocks(recording, control, start_s=5.0):
            if block.stop / fs == 5.0:  # the last block before the target
                before, at_target = list(waits), time.monotonic()
            if block.stop / fs >= 5.5:
                assert before is not None
                return before, time.monotonic() - at_target
        raise AssertionError("ended early")

    before, paced = asyncio.run(run())
    # 5 s of signal handed over without waiting for the clock (however slow the machine)
    assert len(before) == 250 and not any(before)
    # then 0.5 s of signal in no less than 0.5 s (a loaded machine can only take longer)
    assert paced >= 0.5 - 1e-3


def test_pause_holds_and_seek_ends_the_run(recording) -> None:  # type: ignore[no-untyped-def]
    control = ReplayControl(recording.duration_s, speed=None, hold_at_end=True)

    async def run() -> tuple[int, float, int]:
        count = 0
        last = 0
        async for block in steered_replay_blocks(recording, control):
            count += 1
            last = block.stop
            if count == 10:
                control.set_paused(True)
                asyncio.get_running_loop().call_later(0.3, control.seek, 3.0)
                paused_at = time.monotonic()
        return count, time.monotonic() - paused_at, last

    count, held, last = asyncio.run(run())
    assert count == 10 and held >= 0.25  # nothing while paused; the seek ended the run
    assert control.take_seek() == 3.0 and control.take_seek() is None
    assert last == 400


def test_speed_and_seek_are_checked() -> None:
    control = ReplayControl(10.0)
    with pytest.raises(ValueError, match="positive"):
        control.set_speed(0)
    assert control.seek(-3) == 0.0 and control.seek(99) == 10.0
