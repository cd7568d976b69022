"""An in-memory recording: samples, sample rate, channels and loss mask."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.block import MAX_SAMPLE_RATE_HZ, Block, Channel
from emg.errors import EmgInputError
from emg.events import Event

__all__ = ["MAX_SAMPLE_RATE_HZ", "Recording", "check_layout"]


@dataclass
class Recording:
    """A whole recording held in memory.

    Attributes
    ----------
    data
        float32 ``(n_samples, n_channels)`` in microvolts.
    sample_rate
        Samples per second.
    channels
        Metadata per column.
    lost
        Boolean mask like ``data``, True where a sample was lost (and filled).
    source
        Where it came from (a path or a description).
    events
        What happened during it (reps, flags, losses, markers ...), in time order.
    metadata
        What the source knows about the session: start time, exercise, sensors, the analysis
        settings it was recorded with (plain JSON-ready data; empty when unknown).
    """

    data: npt.NDArray[np.float32]
    sample_rate: float
    channels: tuple[Channel, ...]
    lost: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    source: str = ""
    events: list[Event] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_layout(self.data, self.channels, self.lost)
        if self.lost.size == 0:
            self.lost = np.zeros(self.data.shape, dtype=bool)

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.data.shape[0])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sample_rate

    def blocks(self, size: int, t0: float = 0.0, first: int = 0) -> Iterator[Block]:
        """Cut the recording into consecutive blocks, as a source delivers them.

        Parameters
        ----------
        size
            Samples per block (the last may be short).
        t0
            Time of the recording's first sample; a block's ``t0`` is this plus its offset.
        first
            Sample to start from; a block's ``start`` counts from the recording's start.

        Yields
        ------
        Block
            The next block.

        Raises
        ------
        ValueError
            For a size below 1.
        """
        if size < 1:
            raise ValueError(f"block size must be at least 1 sample, got {size}")
        for start in range(max(0, first), self.n_samples, size):
            stop = min(start + size, self.n_samples)
            yield Block(
                data=self.data[start:stop],
                sample_rate=self.sample_rate,
                t0=t0 + start / self.sample_rate,
                start=start,
                channels=self.channels,
                lost=self.lost[start:stop],
            )


def check_layout(data: Any, channels: Any, lost: Any) -> None:
    """Refuse a recording whose parts do not fit together: ``data`` not a 2-D array, a
    channel that is not a :class:`~emg.block.Channel`, a number of channels other than the
    columns of ``data``, a loss mask (when given) shaped otherwise.

    Raises
    ------
    EmgInputError
        Naming ``Recording`` and what does not fit.
    """
    if not isinstance(data, np.ndarray) or data.ndim != 2:
        shape = data.shape if isinstance(data, np.ndarray) else type(data).__name__
        raise EmgInputError(
            f"data must be an array (n_samples, n_channels), not {shape}", source="Recording"
        )
    if not isinstance(channels, tuple | list):
        raise EmgInputError(
            f"channels must be a tuple of Channel, not {type(channels).__name__}",
            source="Recording",
        )
    for index, channel in enumerate(channels):
        if not isinstance(channel, Channel):
            make = f"Channel.from_name({channel!r})" if isinstance(channel, str) else "Channel"
            raise EmgInputError(
                f"channel {index} is {channel!r} ({type(channel).__name__}), not a Channel: "
                f"make it with {make}",
                source="Recording",
            )
    if len(channels) != data.shape[1]:
        labels = ", ".join(c.label for c in channels) or "none"
        raise EmgInputError(
            f"{len(channels)} channels ({labels}) for {data.shape[1]} columns of data",
            source="Recording",
        )
    if not isinstance(lost, np.ndarray) or (lost.size and lost.shape != data.shape):
        shape = lost.shape if isinstance(lost, np.ndarray) else type(lost).__name__
        raise EmgInputError(
            f"the loss mask lost is {shape}, not shaped like data {data.shape}",
            source="Recording",
        )
