"""A replay a person steers: pause, speed and seek, from another thread (the window's).

The analysis is causal and carries state from the first sample on, so a seek cannot jump: a
replay that seeks ends, and the next run of the analysis starts again from the first sample,
as fast as possible up to the target, then paced. That keeps every number on screen the one
the analysis gives when it reaches that moment from the start: the same as a live run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from emg.block import Block
from emg.recording import Recording
from emg.sources.replay import REPLAY_BLOCK_S

#: How often a paused or finished replay looks at its control (s).
POLL_S = 0.02


class ReplayControl:
    """Pause, speed and seek of a replay; safe to call from any thread.

    Parameters
    ----------
    duration_s
        Length of the recording.
    speed
        1 for real time, 2 for twice as fast, None for as fast as possible.
    hold_at_end
        At the end, wait for a seek (or cancellation) instead of ending the stream.
    """

    def __init__(
        self, duration_s: float, speed: float | None = 1.0, hold_at_end: bool = True
    ) -> None:
        self.duration_s = duration_s
        self.hold_at_end = hold_at_end
        self._lock = threading.Lock()
        self._speed = speed
        self._paused = False
        self._seek: float | None = None
        self._changed = 0  # bumped on every change of pace, so the pacing re-anchors

    @property
    def speed(self) -> float | None:
        """The current speed factor (None: as fast as possible)."""
        return self._speed

    @property
    def paused(self) -> bool:
        """Whether the replay is paused."""
        return self._paused

    def set_speed(self, speed: float | None) -> None:
        """Change the speed (positive factor, or None for as fast as possible)."""
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive or None, got {speed}")
        with self._lock:
            self._speed = speed
            self._changed += 1

    def set_paused(self, paused: bool) -> None:
        """Pause or go on."""
        with self._lock:
            self._paused = paused
            self._changed += 1

    def seek(self, time_s: float) -> float:
        """Ask to go to ``time_s`` (clamped to the recording); returns where it will go."""
        target = min(max(0.0, float(time_s)), self.duration_s)
        with self._lock:
            self._seek = target
            self._changed += 1
        return target

    @property
    def seek_pending(self) -> bool:
        """Whether a seek waits to be taken."""
        return self._seek is not None

    def take_seek(self) -> float | None:
        """The pending seek target, once (None if there is none)."""
        with self._lock:
            target, self._seek = self._seek, None
        return target

    def _pace(self) -> tuple[float | None, bool, int]:
        with self._lock:
            return self._speed, self._paused, self._changed


async def steered_replay_blocks(
    recording: Recording,
    control: ReplayControl,
    start_s: float = 0.0,
    block_s: float = REPLAY_BLOCK_S,
) -> AsyncIterator[Block]:
    """Stream a recording from its first sample, as fast as possible up to ``start_s``, then
    at the control's pace; ends when a seek is asked for (or at the end, unless the control
    holds there).

    Yields
    ------
    Block
        As :func:`emg.sources.replay.replay_blocks` does.
    """
    fs = recording.sample_rate
    t0 = float(recording.metadata.get("t0", 0.0) or 0.0)
    size = max(1, round(block_s * fs))
    until = round(start_s * fs)
    loop = asyncio.get_running_loop()
    anchor: tuple[int, float, int] | None = None  # (sample, loop time, change count)
    for block in recording.blocks(size, t0):
        start = block.start
        stop = start + block.data.shape[0]
        if control.seek_pending:
            return
        if stop > until:
            while True:
                speed, paused, changed = control._pace()
                if control.seek_pending:
                    return
                if anchor is None or anchor[2] != changed:
                    anchor = (start, loop.time(), changed)
                if paused:
                    await asyncio.sleep(POLL_S)
                    continue
                if speed is None:
                    await asyncio.sleep(0)
                    break
                due = anchor[1] + (stop - anchor[0]) / fs / speed
                wait = due - loop.time()
                if wait <= 0:
                    break
                await asyncio.sleep(min(wait, POLL_S))
        else:
            await asyncio.sleep(0)
        yield block
    while control.hold_at_end and not control.seek_pending:
        await asyncio.sleep(POLL_S)
