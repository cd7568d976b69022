"""The data contract between sources, the signal chain and sinks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.muscles import parse_muscle_name


@dataclass(frozen=True)
class Channel:
    """Metadata of one EMG channel.

    Attributes
    ----------
    label
        Channel label, unique within a stream (e.g. ``glute_left``).
    muscle
        Canonical muscle name (see :mod:`emg.muscles`).
    side
        ``"left"``, ``"right"`` or ``None``.
    device
        The sensor the channel comes from, if known.
    unit
        Physical unit of the samples; blocks always carry microvolts.
    """

    label: str
    muscle: str
    side: str | None = None
    device: str = ""
    unit: str = "uV"

    @classmethod
    def from_name(cls, name: str, device: str = "") -> Channel:
        """Build a channel from a name such as ``hamstring_right``.

        Parameters
        ----------
        name
            A muscle, optionally with a side: ``glute``, ``hamstring_left`` ...
        device
            The sensor it comes from, if known.

        Returns
        -------
        Channel
            Labelled ``name``, with its muscle and side.

        Raises
        ------
        KeyError
            If the muscle in ``name`` is not known.
        """
        parsed = parse_muscle_name(name)
        return cls(label=parsed.label, muscle=parsed.muscle, side=parsed.side, device=device)


@dataclass(frozen=True)
class Block:
    """One chunk of consecutive samples from a source.

    Attributes
    ----------
    data
        float32 array shaped ``(n_samples, n_channels)`` in microvolts. Lost samples are filled
        (with 0), never dropped, and flagged in ``lost``.
    sample_rate
        Samples per second per channel.
    t0
        Time of the first sample on the host's monotonic clock, in seconds.
    start
        Index of the first sample counted from the start of the stream.
    channels
        Metadata of each column of ``data``.
    lost
        Boolean array shaped like ``data``: True where a sample was lost in transit.
    """

    data: npt.NDArray[np.float32]
    sample_rate: float
    t0: float
    start: int
    channels: tuple[Channel, ...]
    lost: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    def __post_init__(self) -> None:
        if self.data.ndim != 2:
            raise ValueError(
                f"Block data must be 2-D (n_samples, n_channels), got {self.data.shape}"
            )
        if self.data.shape[1] != len(self.channels):
            raise ValueError(
                f"Block has {self.data.shape[1]} data columns but {len(self.channels)} channels"
            )
        if self.lost.size == 0 and self.data.size:
            object.__setattr__(self, "lost", np.zeros(self.data.shape, dtype=bool))
        elif self.lost.shape != self.data.shape:
            raise ValueError(
                f"Block loss mask {self.lost.shape} does not match data {self.data.shape}"
            )

    @property
    def n_samples(self) -> int:
        """Number of samples (rows) in the block."""
        return int(self.data.shape[0])

    @property
    def stop(self) -> int:
        """Index one past the last sample of the block."""
        return self.start + self.n_samples


#: Highest sample rate a reader accepts: far above any EMG front end, low enough that a
#: damaged rate field cannot make a reader allocate gigabytes.
MAX_SAMPLE_RATE_HZ = 100_000.0

#: The largest magnitude a sample can have, in microvolts: 20 V, beyond the input range of any
#: surface-EMG front end (a biopotential ADC takes a few volts at most: ±4.5 V at gain 1 for the
#: ADS1299 of OpenBCI's boards; sEMG itself is a few millivolts) and the ±10 V full scale of the
#: lab analog boards that record amplified EMG into C3D or EDF, with room for a rail sample
#: read through a float32 scale. A larger value is damaged or not in microvolts; one such
#: sample wrecks its channel's analysis (the filters spread it, the noise floor and the bursts
#: are lost). Far inside float32's range (±3.4e38).
MAX_SAMPLE_UV = 2e7


def beyond_sample_range(values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Where finite values lie beyond :data:`MAX_SAMPLE_UV`, so cannot be sEMG in microvolts.

    A value such as ``1e30`` passes a finiteness check (and fits float32), yet no electrode and
    amplifier gives it, so every reader and stream checks this mask and either refuses the
    input (files: naming the row and column) or marks the samples lost (streams).

    Parameters
    ----------
    values
        Samples in microvolts, any float dtype.

    Returns
    -------
    numpy.ndarray
        Boolean mask shaped like ``values``, True where ``|value| > MAX_SAMPLE_UV`` and finite.

    Examples
    --------
    >>> beyond_sample_range([1.0, -1e7, 1e30, float("inf")]).tolist()
    [False, False, True, False]
    """
    array: npt.NDArray[np.floating[Any]] = np.asarray(values)
    if not np.issubdtype(array.dtype, np.floating):  # float32 as it is (no float64 copy)
        array = array.astype(np.float64)
    beyond: npt.NDArray[np.bool_] = np.isfinite(array) & (np.abs(array) > MAX_SAMPLE_UV)
    return beyond
