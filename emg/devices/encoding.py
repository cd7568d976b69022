"""The reverse of decoding, for emulated sensors: microvolt samples in, notification payloads out.

Each encoder writes exactly what the real sensor sends (so the decoders, the sample clock and
the recorder are exercised as in the field), and, for sensors that answer commands, the
answers. Encoders are registered by the same ``kind`` as their decoders.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from emg.devices.profiles import SensorProfile


@dataclass(frozen=True)
class Notification:
    """One payload on one characteristic."""

    characteristic: str
    payload: bytes


class Encoder(ABC):
    """Base of the packet encoders.

    Parameters
    ----------
    profile
        The sensor's profile (characteristics, channels, scale, decoder parameters).
    """

    #: The decoder ``kind`` this encoder writes for.
    kind: ClassVar[str] = ""

    def __init__(self, profile: SensorProfile) -> None:
        self.profile = profile

    @property
    @abstractmethod
    def samples_per_notification(self) -> int:
        """Samples per channel that :meth:`encode` takes for one notification."""

    def start(self, device_time_us: int) -> None:  # noqa: B027  (stateless encoders need nothing)
        """A new stream starts (after the start command): counters restart as the sensor's do.

        Parameters
        ----------
        device_time_us
            The sensor clock at the first sample, in microseconds.
        """

    @abstractmethod
    def encode(
        self, samples_uv: npt.NDArray[np.float64], device_time_us: int
    ) -> list[Notification]:
        """Payloads for the next samples.

        Parameters
        ----------
        samples_uv
            ``(samples_per_notification, channels)`` microvolts, the stream's next samples.
        device_time_us
            The sensor clock at the first of them, in microseconds.

        Returns
        -------
        list of Notification
            What the sensor sends for them (usually one notification), in order. A sensor
            that counts packets counts every call, so skipping a returned notification is a
            packet lost in transit.
        """

    def use_mtu(self, mtu: int) -> None:  # noqa: B027  (fixed-size packets fit any MTU)
        """The ATT MTU of the connection (payloads of at most ``mtu - 3`` bytes fit); called
        before :meth:`start`, as a sensor sizes its packets when streaming starts."""

    def answer(self, command: bytes) -> list[Notification]:
        """Notifications the sensor sends in answer to a command (default: none)."""
        return []

    def info(self) -> bytes | None:
        """Payload of the sensor's info characteristic, if it has one."""
        return None


def quantise(
    samples_uv: npt.ArrayLike,
    scale_uv: float | npt.NDArray[np.float64],
    low: float | npt.NDArray[np.float64],
    high: float | npt.NDArray[np.float64],
    offset: float | npt.NDArray[np.float64] = 0.0,
) -> npt.NDArray[np.float64]:
    """Microvolts as a sensor's whole counts: ``clip(round(µV / scale_uv + offset), low, high)``.

    Parameters
    ----------
    samples_uv
        Any shape; NaN is taken as 0.
    scale_uv
        Microvolts per count (per column, or one for all).
    low, high
        The counts' range (the ADC's, or the packet field's).
    offset
        Counts added before rounding (an ADC's mid-scale).

    Returns
    -------
    numpy.ndarray
        Whole counts as float64, same shape; the caller casts them to its packet's type.
    """
    counts = np.nan_to_num(np.asarray(samples_uv, dtype=np.float64) / scale_uv)
    result: npt.NDArray[np.float64] = np.clip(np.round(counts + offset), low, high)
    return result


#: kind -> encoder class, filled by :func:`register_encoder`.
ENCODERS: dict[str, type[Encoder]] = {}


def register_encoder(cls: type[Encoder]) -> type[Encoder]:
    """Class decorator: make an encoder available by its ``kind``."""
    if not cls.kind or cls.kind in ENCODERS:
        raise ValueError(f"encoder kind '{cls.kind}' is empty or registered twice")
    ENCODERS[cls.kind] = cls
    return cls


def make_encoder(profile: SensorProfile) -> Encoder:
    """The encoder for a profile's decoder kind.

    Raises
    ------
    KeyError
        If no encoder writes that kind.
    """
    from emg.devices import encoders  # noqa: F401  (registers the built-in encoders)

    if profile.decoder_kind not in ENCODERS:
        raise KeyError(
            f"no emulation for decoder kind '{profile.decoder_kind}' "
            f"(emulated: {', '.join(sorted(ENCODERS))})"
        )
    return ENCODERS[profile.decoder_kind](profile)
