from __future__ import annotations

import asyncio

import numpy as np
import pytest

from emg.block import Block
from emg.recording import Recording
from emg.sources.replay import parse_speed, replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session


@pytest.fixture(scope="module")
def lossy_set() -> Recording:
    return generate_session(SynthConfig(reps=2, seed=11, sides=True, loss=0.05)).recording


def test_replay_keeps_timestamps_and_loss_masks(lossy_set: Recording) -> None:
    recording = Recording(
        lossy_set.data,
        lossy_set.sample_rate,
        lossy_set.channels,
        lossy_set.lost,
        metadata={"t0": 1234.5},
    )

    async def collect() -> list[Block]:
        return [b async for b in replay_blocks(recording, speed=None, block_s=0.05)]

    blocks = asyncio.run(collect())
    assert blocks[0].t0 == 1234.5 and blocks[3].t0 == pytest.approx(1234.5 + 0.15)
    np.testing.assert_array_equal(np.concatenate([b.lost for b in blocks]), lossy_set.lost)
    assert sum(b.n_samples for b in blocks) == lossy_set.n_samples


def test_real_time_pace(lossy_set: Recording) -> None:
    short = Recording(lossy_set.data[:1000], lossy_set.sample_rate, lossy_set.channels)

    async def timed(speed: float) -> float:
        loop = asyncio.get_running_loop()
        began = loop.time()
        async for _ in replay_blocks(short, speed=speed):
            pass
        return loop.time() - began

    # 0.5 s of signal at 2x speed takes at least 0.25 s (no upper bound: shared machines)
    assert asyncio.run(timed(2.0)) >= 0.24


def test_start_offset_and_speed_parsing(lossy_set: Recording) -> None:
    async def collect() -> list[Block]:
        return [b async for b in replay_blocks(lossy_set, speed=None, start_s=1.0)]

    blocks = asyncio.run(collect())
    assert blocks[0].start == 2000 and blocks[0].t0 == pytest.approx(1.0)
    assert sum(b.n_samples for b in blocks) == lossy_set.n_samples - 2000
    assert parse_speed("max") is None and parse_speed("2.5") == 2.5
    for bad in ("0", "-1", "fast", "inf", "1e-9", "0.09"):  # 1e-9 would never end
        with pytest.raises(ValueError, match="speed"):
            parse_speed(bad)
    assert parse_speed("0.1") == 0.1
