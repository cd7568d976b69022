"""BITalino (r)evolution encoder: CRC4-checked frames, cut into BLE notifications unaligned.

One frame per sample instant, laid out as :mod:`emg.devices.decoders.bitalino` documents (and
BITalinoWorld ``revolution-python-api`` reads): read as one little-endian integer of the frame's
bits, a 4-bit sequence number at the top, the CRC4, the four digital bits (I1 I2 O1 O2), then
one slot per acquired analog input (10 bits for the first four, 6 for a fifth and sixth). The
sequence number restarts at 0 with every start command and counts frames modulo 16.

The EMG slots carry the inverse of the EMG sensor's transfer function with the profile's
``gain`` and ``vcc``: ``ADC = round((µV / (VCC / G * 1e6) + 1/2) * 2**n)``, clipped to
``0 .. 2**n - 1`` (±1635 µV for 10 bits at VCC 3.3 V and G 1009): the receiver gets every
sample back to within half an ADC step (1.6 µV). Acquired inputs that are not EMG channels
carry mid-scale.

The BT121 module is a transparent UART bridge, so its notifications are chunks of the byte
stream, not frames. Each :meth:`BitalinoEncoder.encode` call forms ``frames_per_call`` frames
(10 at 1000 Hz: 30 bytes for one channel) and cuts their bytes into notifications of at most
``chunk_bytes`` (20, the BT121's) bytes, so frames straddle notifications (20 + 10 bytes for
3-byte frames), as on the real link. A call's notifications start and end on frame boundaries,
so an emulator that drops whole calls loses whole frames, which the receiver counts from the
sequence gap (exactly, as long as fewer than 16 frames go missing in a row: keep
``frames_per_call`` at 15 or less).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from emg.devices.decoders.bitalino import (
    HEADER_BITS,
    SLOT_BITS,
    BitalinoDecoder,
    frame_crc4,
)
from emg.devices.encoding import Encoder, Notification, quantise, register_encoder
from emg.devices.profiles import SensorProfile

#: Largest notification the BT121 bridge sends (ATT MTU 23).
CHUNK_BYTES = 20
#: Frames per sequence cycle: more lost in a row alias.
SEQUENCE_MODULO = 16


def default_frames_per_call(sample_rate: float) -> int:
    """Frames per :meth:`BitalinoEncoder.encode` call: 10 ms of frames, 1 to 10.

    Parameters
    ----------
    sample_rate
        Frames per second (1, 10, 100 or 1000 on the device).

    Returns
    -------
    int
        10 at 1000 Hz, 1 at 100 Hz and below.
    """
    return max(1, min(10, int(sample_rate // 100)))


@register_encoder
class BitalinoEncoder(Encoder):
    """BITalino (r)evolution frames as a byte stream in ≤ 20-byte notifications.

    Parameters
    ----------
    profile
        The BITalino profile: ``decoder.channels_acquired``, ``emg_inputs``, ``gain`` and
        ``vcc`` (as the decoder reads them), the frames characteristic as ``gatt.notify[0]``.
    frames_per_call
        Frames (samples per channel) per :meth:`encode` call, 1 to 15 (default: 10 ms of
        frames, see :func:`default_frames_per_call`).
    chunk_bytes
        Largest notification, 1 to 20 bytes.
    digital
        The four digital bits I1 I2 O1 O2 as a nibble (I1 is bit 3), sent in every frame.

    Raises
    ------
    ValueError
        For an invalid profile (as the decoder finds it) or argument.
    """

    kind: ClassVar[str] = "bitalino"

    def __init__(
        self,
        profile: SensorProfile,
        *,
        frames_per_call: int | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        digital: int = 0,
    ) -> None:
        super().__init__(profile)
        decoder = profile.decoder()  # validates the parameters as the receiver does
        if not isinstance(decoder, BitalinoDecoder):
            raise ValueError(f"profile '{profile.name}' does not use the bitalino decoder")
        if frames_per_call is None:
            frames_per_call = default_frames_per_call(profile.sample_rate)
        if not 1 <= frames_per_call < SEQUENCE_MODULO:
            raise ValueError(f"frames_per_call must be 1 .. {SEQUENCE_MODULO - 1}")
        if not 1 <= chunk_bytes <= CHUNK_BYTES:
            raise ValueError(f"chunk_bytes must be 1 .. {CHUNK_BYTES}")
        if not 0 <= digital <= 0xF:
            raise ValueError("digital must be a nibble, 0 .. 15")
        params = {**BitalinoDecoder.parameters, **profile.decoder_params}
        acquired = list(decoder.acquired)
        emg = list(params["emg_inputs"]) or acquired[: profile.channels]
        self.frame_bytes = decoder.frame_bytes
        self.frames_per_call = frames_per_call
        self.chunk_bytes = chunk_bytes
        self.digital = digital
        total_bits = 8 * self.frame_bytes
        shifts, top = [], total_bits - HEADER_BITS
        for width in SLOT_BITS[: len(acquired)]:
            top -= width
            shifts.append(top)
        #: (bit shift, bits) of every acquired slot, slot 1 first.
        self._slots = tuple(zip(shifts, SLOT_BITS[: len(acquired)], strict=True))
        #: The slot of each EMG channel.
        self._emg_slots = tuple(acquired.index(a) for a in emg)
        self._seq_shift = total_bits - 4
        self._digital_shift = total_bits - HEADER_BITS
        span_uv = 1e6 * float(params["vcc"]) / float(params["gain"])
        self._steps = np.array([1 << SLOT_BITS[s] for s in self._emg_slots], dtype=np.float64)
        self._span_uv = span_uv
        self._sequence = 0

    @property
    def samples_per_notification(self) -> int:
        """Frames per :meth:`encode` call (their bytes go out as one or more notifications)."""
        return self.frames_per_call

    def start(self, device_time_us: int) -> None:
        """The start command: the frame sequence restarts at 0.

        Parameters
        ----------
        device_time_us
            Unused: BITalino frames carry no device time.
        """
        self._sequence = 0

    def adc(self, samples_uv: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """The EMG slots' ADC values: the inverse transfer function, rounded and clipped.

        Parameters
        ----------
        samples_uv
            ``(n, channels)`` microvolts (NaN is taken as 0).

        Returns
        -------
        numpy.ndarray
            int64 ADC values, same shape.
        """
        steps = self._steps
        return quantise(samples_uv, self._span_uv / steps, 0, steps - 1, steps / 2).astype(np.int64)

    def frame(self, adc: list[int]) -> bytes:
        """One frame with the next sequence number.

        Parameters
        ----------
        adc
            The EMG channels' ADC values.

        Returns
        -------
        bytes
            ``frame_bytes`` bytes, CRC4 in the low nibble of the last byte.
        """
        slots = [1 << (bits - 1) for _, bits in self._slots]  # mid-scale on non-EMG inputs
        for slot, value in zip(self._emg_slots, adc, strict=True):
            slots[slot] = value
        value = (self._sequence << self._seq_shift) | (self.digital << self._digital_shift)
        for (shift, _), slot_value in zip(self._slots, slots, strict=True):
            value |= slot_value << shift
        frame = bytearray(value.to_bytes(self.frame_bytes, "little"))
        frame[-1] |= frame_crc4(frame)
        self._sequence = (self._sequence + 1) % SEQUENCE_MODULO
        return bytes(frame)

    def encode(
        self, samples_uv: npt.NDArray[np.float64], device_time_us: int
    ) -> list[Notification]:
        """One frame per sample; their bytes cut into notifications of ``chunk_bytes``.

        Parameters
        ----------
        samples_uv
            ``(n, channels)`` microvolts, normally ``frames_per_call`` samples.
        device_time_us
            Unused: BITalino frames carry no device time.

        Returns
        -------
        list of Notification
            ``ceil(n * frame_bytes / chunk_bytes)`` notifications, all but the last full.
        """
        values = np.asarray(samples_uv, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.profile.channels:
            raise ValueError(f"samples must be (n, {self.profile.channels}), got {values.shape}")
        stream = b"".join(self.frame(row) for row in self.adc(values).tolist())
        characteristic = self.profile.notify[0]
        size = self.chunk_bytes
        return [
            Notification(characteristic, stream[i : i + size]) for i in range(0, len(stream), size)
        ]
