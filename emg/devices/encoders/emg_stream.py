"""emg-stream v1 encoder: the reference firmware's data packets, command responses and info.

Written from ``firmware_configs/emg-stream-v1/SPEC.md`` and the reference sketch
(``emg_stream_v1.ino``), so that an emulated sensor behaves as the ESP32 firmware does:

- **Packets** (SPEC section 3): version 1, ``C`` channels, ``N`` samples per channel, flags, a
  16-bit sequence number and the 32-bit device time (µs) of the first sample, then ``N x C``
  int16 counts, sample-major. ``N`` is fixed when a stream starts (section 6):
  ``min((MTU - 13) // (2 C), 255, batch limit)`` at the emulated MTU (247, the firmware's
  offer, by default: 117 samples and 244 bytes for one channel), or a fixed ``samples_per_packet``.
- **Counters** (section 4): :meth:`EmgStreamEncoder.start` (the START command) restarts the
  sequence at 0 and flags the next packet *stream start*; every packet formed takes the next
  sequence number (wrapping at 65536), also those the caller then drops, exactly as the firmware
  consumes the numbers of packets its radio never sends. The timestamp is the caller's device
  clock, wrapped to 32 bits; it is not reset by START.
- **Counts**: ``round(µV / scale_uv)``, clipped to the ADC's range. The reference firmware sends
  ``raw - 2048`` of a 12-bit conversion (-2048 .. 2047) and flags a packet *clipped* when a
  sample sits at either end, as the sketch does; ``adc_bits=16`` gives the whole int16 range.
- **Commands** (section 8): :meth:`EmgStreamEncoder.answer` parses a command as
  ``emg_stream.h`` does (length, then parameter), applies it as the sketch does (state checks:
  SET_SAMPLE_RATE and SET_BATCH_LIMIT only while stopped) and returns the ``F0`` response.
- **Info** (section 9): :meth:`EmgStreamEncoder.info` is the info characteristic's value.
"""

from __future__ import annotations

import struct
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from emg.devices.decoders.emg_stream import (
    FLAG_CLIPPED,
    FLAG_STREAM_START,
    HEADER,
    INFO_FIXED,
    INFO_MAX_NAME,
    MAX_CHANNELS,
    RESPONSE_CODE,
    VERSION,
    Opcode,
    Status,
)
from emg.devices.decoders.emg_stream import (
    samples_per_packet as packet_room,
)
from emg.devices.encoding import Encoder, Notification, quantise, register_encoder
from emg.devices.profiles import SensorProfile

#: Largest ATT MTU the reference firmware offers (``LOCAL_MTU``): notifications of 244 bytes.
MAX_MTU = 247
#: The smallest ATT MTU (no exchange).
MIN_MTU = 23
#: Firmware name the reference firmware reports in its info payload.
FIRMWARE_NAME = "emg-stream-esp32"
#: Firmware version the reference firmware reports.
FIRMWARE_VERSION = (1, 0, 0)
#: Sample rates a device accepts: 100 .. 2000 Hz with a whole number of microseconds.
MIN_RATE_HZ, MAX_RATE_HZ = 100, 2000
#: Bits of the reference firmware's ADC (ESP32, 12-bit).
ADC_BITS = 12
#: Bytes of a GET_INFO response's data: the info payload's fixed part.
INFO_FIXED_PART = INFO_FIXED.size - 1


def sample_rate_valid(hz: int) -> bool:
    """Whether a device accepts this sample rate (``emg_stream_sample_rate_valid``).

    Parameters
    ----------
    hz
        Samples per second per channel.

    Returns
    -------
    bool
        True for 100 .. 2000 Hz with ``10**6 / hz`` a whole number of microseconds.
    """
    return MIN_RATE_HZ <= hz <= MAX_RATE_HZ and 1_000_000 % hz == 0


def response(opcode: int, status: Status, data: bytes = b"") -> bytes:
    """A response notification: ``F0``, the op code answered, the status, then data.

    Parameters
    ----------
    opcode
        The op code answered (0 for an empty write).
    status
        The outcome.
    data
        The fixed info part for GET_INFO, else nothing.

    Returns
    -------
    bytes
        At most 17 bytes.
    """
    return bytes([RESPONSE_CODE, opcode & 0xFF, status]) + data


@register_encoder
class EmgStreamEncoder(Encoder):
    """Packets, responses and info of the emg-stream v1 reference firmware.

    Parameters
    ----------
    profile
        The sensor's profile: channels (1 to 8), sample rate, ``scale_uv`` (µV per count), the
        data characteristic (``gatt.notify[0]``) and the control characteristic.
    mtu
        The ATT MTU the emulated link negotiated, 23 to 247 (the firmware offers 247).
    samples_per_packet
        A fixed ``N`` instead of the most that fit the MTU (the packet must still fit it).
    batch_limit
        The initial SET_BATCH_LIMIT (0 = as many samples as fit).
    adc_bits
        ADC resolution: counts are clipped to ``-2**(bits-1) .. 2**(bits-1) - 1`` and packets
        with a sample at either end are flagged clipped (12 as on the ESP32; 16 = int16).
    firmware_name
        Name in the info payload (at most 32 ASCII characters).

    Raises
    ------
    ValueError
        For a profile or an argument the firmware cannot have.
    """

    kind: ClassVar[str] = "emg-stream-v1"

    def __init__(
        self,
        profile: SensorProfile,
        *,
        mtu: int = MAX_MTU,
        samples_per_packet: int | None = None,
        batch_limit: int = 0,
        adc_bits: int = ADC_BITS,
        firmware_name: str = FIRMWARE_NAME,
    ) -> None:
        super().__init__(profile)
        channels = profile.channels
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"emg-stream v1 carries 1 to {MAX_CHANNELS} channels, not {channels}")
        if not MIN_MTU <= mtu <= MAX_MTU:
            raise ValueError(f"the firmware negotiates an MTU of {MIN_MTU} to {MAX_MTU}, not {mtu}")
        if not 0 <= batch_limit <= 0xFF:
            raise ValueError(f"batch_limit must be 0 .. 255, not {batch_limit}")
        if not 2 <= adc_bits <= 16:
            raise ValueError(f"adc_bits must be 2 .. 16, not {adc_bits}")
        if len(firmware_name) > INFO_MAX_NAME or not firmware_name.isascii():
            raise ValueError(f"firmware_name must be ASCII of at most {INFO_MAX_NAME} characters")
        fits = packet_room(mtu, channels)
        if samples_per_packet is not None:
            if not 1 <= samples_per_packet <= fits:
                raise ValueError(
                    f"{samples_per_packet} samples per packet: 1 to {fits} fit MTU {mtu}"
                    f" with {channels} channel(s)"
                )
            fits = samples_per_packet
        if fits == 0:
            raise ValueError(f"not one sample of {channels} channels fits MTU {mtu}")
        self.mtu = mtu
        self.firmware_name = firmware_name
        self.adc_bits = adc_bits
        self.batch_limit = batch_limit
        #: Samples per second of the next (or current) stream; SET_SAMPLE_RATE changes it.
        self.sample_rate = float(profile.sample_rate)
        #: Whether the emulated device is streaming (START .. STOP).
        self.streaming = False
        self._fits = fits
        self._fixed = samples_per_packet
        self._low = -(1 << (adc_bits - 1))
        self._high = (1 << (adc_bits - 1)) - 1
        self._data = profile.notify[0]
        self._control = profile.control
        self._begin()

    # --- streaming ---------------------------------------------------------------------------

    @property
    def samples_per_notification(self) -> int:
        """``N``, samples per channel per packet, of the current (or next) stream."""
        return self._n if self.streaming else self._next_n()

    def use_mtu(self, mtu: int) -> None:
        """Size packets for the connection's MTU at the next START, as the firmware does."""
        mtu = min(max(mtu, MIN_MTU), MAX_MTU)
        fits = packet_room(mtu, self.profile.channels)
        self.mtu = mtu
        self._fits = min(fits, self._fixed) if self._fixed is not None else fits

    def _next_n(self) -> int:
        """``N`` the next START would choose: the MTU's room, capped by the batch limit."""
        return min(self._fits, self.batch_limit) if self.batch_limit > 0 else self._fits

    def _begin(self) -> None:
        """What START does: ``N`` and the rate fixed, sequence 0, the next packet flagged."""
        self._n = self._next_n()
        self._period_us = 1e6 / self.sample_rate
        self._sequence = 0
        self._flags = FLAG_STREAM_START
        self._pending = np.zeros((0, self.profile.channels), dtype=np.int16)
        self._pending_time_us = 0.0

    def start(self, device_time_us: int) -> None:
        """A new stream: sequence 0 and the stream-start flag on the next packet.

        Parameters
        ----------
        device_time_us
            The sensor clock at the first sample (the timestamps come from :meth:`encode`).
        """
        self._begin()
        self.streaming = True

    def counts(self, samples_uv: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
        """ADC counts of microvolt samples: ``round(µV / scale_uv)`` within the ADC's range.

        Parameters
        ----------
        samples_uv
            Microvolts, any shape (NaN is taken as 0).

        Returns
        -------
        numpy.ndarray
            int16 counts, same shape.
        """
        return quantise(samples_uv, self.profile.scale_uv, self._low, self._high).astype(np.int16)

    def encode(
        self, samples_uv: npt.NDArray[np.float64], device_time_us: int
    ) -> list[Notification]:
        """Packets of ``N`` samples on the data characteristic (normally exactly one).

        Parameters
        ----------
        samples_uv
            ``(n, channels)`` microvolts; normally ``n`` is :attr:`samples_per_notification`.
            Samples that do not fill a packet wait for the next call, as in the firmware's ring.
        device_time_us
            The sensor clock at the first of them, in microseconds.

        Returns
        -------
        list of Notification
            One packet per ``N`` samples; each takes the next sequence number.
        """
        rows = self.counts(_rows(samples_uv, self.profile.channels))
        if len(self._pending) == 0:
            self._pending_time_us = float(device_time_us)
        pending = np.concatenate([self._pending, rows])
        out = []
        n = self._n
        while len(pending) >= n:
            out.append(Notification(self._data, self._packet(pending[:n])))
            pending = pending[n:]
            self._pending_time_us += n * self._period_us
        self._pending = pending
        return out

    def _packet(self, counts: npt.NDArray[np.int16]) -> bytes:
        """One packet of ``counts`` (``(N, C)``), with the next sequence number."""
        flags = self._flags
        if np.any((counts <= self._low) | (counts >= self._high)):
            flags |= FLAG_CLIPPED
        n, channels = counts.shape
        timestamp = round(self._pending_time_us) & 0xFFFFFFFF
        header = HEADER.pack(VERSION, channels, n, flags, self._sequence, timestamp)
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._flags = 0
        return header + counts.astype("<i2").tobytes()

    # --- commands and info -------------------------------------------------------------------

    def answer(self, command: bytes) -> list[Notification]:
        """Apply a command as the firmware does and return its response notification.

        Parameters
        ----------
        command
            Bytes written to the control characteristic.

        Returns
        -------
        list of Notification
            One response on the control characteristic (none if the profile has no control
            characteristic to notify on).
        """
        opcode, status, data = self._run(bytes(command))
        if self._control is None:
            return []
        return [Notification(self._control, response(opcode, status, data))]

    def _run(self, command: bytes) -> tuple[int, Status, bytes]:
        """Parse (``emg_stream_parse_command``), then apply (the sketch's ``handleCommand``)."""
        if not command:
            return 0, Status.INVALID_LENGTH, b""
        opcode = command[0]
        simple = (Opcode.START, Opcode.STOP, Opcode.GET_INFO, Opcode.IDENTIFY)
        if opcode in simple and len(command) != 1:
            return opcode, Status.INVALID_LENGTH, b""
        if opcode == Opcode.START:
            if not self.streaming:
                self.start(0)
            return opcode, Status.OK, b""
        if opcode == Opcode.STOP:
            self.streaming = False
            self._pending = self._pending[:0]
            return opcode, Status.OK, b""
        if opcode == Opcode.GET_INFO:
            return opcode, Status.OK, self.info()[:INFO_FIXED_PART]
        if opcode == Opcode.IDENTIFY:  # the LED blinks for 3 s: nothing to emulate
            return opcode, Status.OK, b""
        if opcode == Opcode.SET_SAMPLE_RATE:
            if len(command) != 3:
                return opcode, Status.INVALID_LENGTH, b""
            (rate,) = struct.unpack_from("<H", command, 1)
            if not sample_rate_valid(rate):
                return opcode, Status.INVALID_PARAMETER, b""
            if self.streaming:
                return opcode, Status.INVALID_STATE, b""
            self.sample_rate = float(rate)
            return opcode, Status.OK, b""
        if opcode == Opcode.SET_BATCH_LIMIT:
            if len(command) != 2:
                return opcode, Status.INVALID_LENGTH, b""
            if self.streaming:
                return opcode, Status.INVALID_STATE, b""
            self.batch_limit = command[1]
            return opcode, Status.OK, b""
        return opcode, Status.UNKNOWN_OPCODE, b""

    def info(self) -> bytes:
        """The info characteristic's value (SPEC section 9).

        Returns
        -------
        bytes
            The 14-byte fixed part (version, channels, rate, µV per count, ``N``, state, ADC
            bits, firmware version), the name length and the name.
        """
        name = self.firmware_name.encode("ascii")
        rate = min(max(round(self.sample_rate), 0), 0xFFFF)
        fixed = INFO_FIXED.pack(
            VERSION,
            self.profile.channels,
            rate,
            self.profile.scale_uv,
            self.samples_per_notification,
            0x01 if self.streaming else 0x00,
            self.adc_bits,
            *FIRMWARE_VERSION,
            len(name),
        )
        return fixed + name


def _rows(samples_uv: npt.NDArray[np.float64], channels: int) -> npt.NDArray[np.float64]:
    """``samples_uv`` as ``(n, channels)`` float64, or a ValueError naming the shape."""
    values = np.asarray(samples_uv, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != channels:
        raise ValueError(f"samples must be (n, {channels}), got {values.shape}")
    return values
