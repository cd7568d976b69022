"""A steered replay: pause, speed and seek, against the recording it plays."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from emg.block import Block
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


def test_fast_to_the_seek_target_then_paced(recording) -> None:  # type: ignore[no-untyped-def]
    """From the first sample as fast as possible up to the target, then in real time."""
    control = ReplayControl(recording.duration_s, speed=1.0, hold_at_end=False)
    fs = recording.sample_rate

    async def run() -> tuple[float, float, int]:
        began = time.monotonic()
        reached = None
        async for block in steered_replay_blocks(recording, control, start_s=5.0):
            if reached is None and block.stop / fs > 5.0:
                reached = time.monotonic() - began
            if block.stop / fs >= 5.5:
                return reached or 0.0, time.monotonic() - began, block.start
        raise AssertionError("ended early")

    reached, total, _ = asyncio.run(run())
    assert reached < 0.5  # 5 s of signal handed over at once
    assert total - reached == pytest.approx(0.5, abs=0.2)  # then 0.5 s in 0.5 s


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
