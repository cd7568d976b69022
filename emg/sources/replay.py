"""Replay a recording as a live stream: paced in real time, faster, or as fast as possible."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from emg.block import Block
from emg.recording import Recording

#: Block length of a replay, like a sensor's notification batch.
REPLAY_BLOCK_S = 0.02


#: Slowest replay: a tenth of real time (slower, a set of a minute would take hours).
MIN_SPEED = 0.1


def parse_speed(text: str) -> float | None:
    """``"1"``, ``"2.5"`` or ``"max"`` -> a speed factor (None = as fast as possible).

    Raises
    ------
    ValueError
        For anything else, or a factor that is not positive or below :data:`MIN_SPEED`.
    """
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"speed must be a positive factor or 'max', got '{text}'") from None
    if not speed > 0 or speed == float("inf"):
        raise ValueError(f"speed must be a positive factor or 'max', got '{text}'")
    if speed < MIN_SPEED:
        raise ValueError(
            f"speed must be at least {MIN_SPEED:g} (a tenth of real time), got '{text}'"
        )
    return speed


async def replay_blocks(
    recording: Recording,
    speed: float | None = 1.0,
    block_s: float = REPLAY_BLOCK_S,
    start_s: float = 0.0,
) -> AsyncIterator[Block]:
    """Stream a recording as blocks, keeping its timestamps and loss mask.

    Parameters
    ----------
    recording
        What to replay (from :func:`emg.io.open_recording.open_recording` or a generator).
    speed
        1 for real time, 2 for twice as fast, None for as fast as possible.
    block_s
        Block duration in seconds.
    start_s
        Where to start, in seconds from the first sample.

    Yields
    ------
    Block
        Consecutive blocks. ``t0`` is the time of the first sample on the clock the
        recording was made with (``metadata["t0"]``, 0 if unknown) plus its offset in the
        recording; ``start`` counts samples from the start of the recording.
    """
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be positive or None, got {speed}")
    fs = recording.sample_rate
    t0 = float(recording.metadata.get("t0", 0.0) or 0.0)
    size = max(1, round(block_s * fs))
    first = min(recording.n_samples, max(0, round(start_s * fs)))
    loop = asyncio.get_running_loop()
    began = loop.time()
    for block in recording.blocks(size, t0, first):
        stop = block.start + block.data.shape[0]
        if speed is not None:
            due = began + (stop - first) / fs / speed
            await asyncio.sleep(max(0.0, due - loop.time()))
        else:
            await asyncio.sleep(0)
        yield block
