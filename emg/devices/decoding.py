"""What every packet decoder does: bytes in, microvolt samples and loss information out.

A decoder is made from a profile's ``[decoder]`` table and ``[stream]`` facts. It is fed the
payload of every notification, in arrival order (with the characteristic it came from, for
protocols that spread a stream over several characteristics), and returns the packets it could
decode. A malformed payload never raises: it is counted in :attr:`Decoder.stats`, logged, and
skipped, and the stream goes on.
"""

from __future__ import annotations

import difflib
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

LOG = logging.getLogger("emg.devices")


class MalformedPacket(ValueError):
    """A payload the decoder cannot read (wrong length, bad header, bad CRC ...)."""


@dataclass(frozen=True)
class DecodedPacket:
    """The samples of one packet (or frame).

    Attributes
    ----------
    samples
        float32 ``(n_samples, n_channels)`` in microvolts.
    sequence
        The packet counter as the protocol sends it, if it has one.
    lost
        Samples per channel lost just before this packet, as the counter shows (0 when the
        protocol has no counter or nothing was lost).
    device_time_s
        Device-clock time of the first sample, unwrapped, if the protocol sends one.
    """

    samples: npt.NDArray[np.float32]
    sequence: int | None = None
    lost: int = 0
    device_time_s: float | None = None


@dataclass
class DecoderStats:
    """Running counts of a decoder."""

    packets: int = 0
    samples: int = 0
    malformed: int = 0
    lost_samples: int = 0
    last_error: str = ""


class Decoder(ABC):
    """Base of the packet decoders.

    Parameters
    ----------
    params
        The profile's ``[decoder]`` table without ``kind``.
    channels
        Channels per sample.
    scale_uv
        Microvolts per count (the profile's ``stream.scale_uv``), where the protocol sends
        counts.
    sample_rate
        Samples per second per channel.
    """

    #: The ``kind`` that selects this decoder in a profile.
    kind: ClassVar[str] = ""
    #: Parameters a profile may give, with their defaults.
    parameters: ClassVar[Mapping[str, Any]] = {}

    def __init__(
        self, params: Mapping[str, Any], channels: int, scale_uv: float, sample_rate: float
    ) -> None:
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(self.parameters), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(
                f"unknown parameter(s) {', '.join(unknown)} for decoder '{self.kind}'{hint}"
                f" (known: {', '.join(self.parameters) or 'none'})"
            )
        self.params = {**self.parameters, **params}
        self.channels, self.scale_uv, self.sample_rate = channels, scale_uv, sample_rate
        self.stats = DecoderStats()

    def decode(self, payload: bytes, characteristic: str | None = None) -> list[DecodedPacket]:
        """Decode one notification payload; malformed ones are counted, logged and skipped."""
        try:
            packets = self._decode(bytes(payload), characteristic)
        except MalformedPacket as error:
            self.stats.malformed += 1
            self.stats.last_error = str(error)
            LOG.warning("%s: skipped a malformed packet (%s): %s", self.kind, error, payload.hex())
            return []
        for packet in packets:
            self.stats.packets += 1
            self.stats.samples += packet.samples.shape[0]
            self.stats.lost_samples += packet.lost
        return packets

    @abstractmethod
    def _decode(self, payload: bytes, characteristic: str | None) -> list[DecodedPacket]:
        """Decode, raising :class:`MalformedPacket` for a payload that cannot be read."""

    def reset(self) -> None:  # noqa: B027  (stateless decoders have nothing to forget)
        """Forget the stream state (after a reconnect: the sensor starts afresh)."""


#: kind -> decoder class, filled by :func:`register`.
DECODERS: dict[str, type[Decoder]] = {}


def register(cls: type[Decoder]) -> type[Decoder]:
    """Class decorator: make a decoder available to profiles by its ``kind``."""
    if not cls.kind or cls.kind in DECODERS:
        raise ValueError(f"decoder kind '{cls.kind}' is empty or registered twice")
    DECODERS[cls.kind] = cls
    return cls


def make_decoder(
    kind: str, params: Mapping[str, Any], channels: int, scale_uv: float, sample_rate: float
) -> Decoder:
    """The decoder of ``kind`` with the given parameters.

    Raises
    ------
    KeyError
        For an unknown kind.
    ValueError
        For unknown or invalid parameters.
    """
    from emg.devices import decoders  # noqa: F401  (registers the built-in decoders)

    if kind not in DECODERS:
        raise KeyError(f"unknown decoder kind '{kind}' (known: {', '.join(sorted(DECODERS))})")
    return DECODERS[kind](params, channels, scale_uv, sample_rate)
