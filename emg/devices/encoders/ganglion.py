"""OpenBCI Ganglion encoder: 20-byte sample packets as firmware 2 or 3 sends them over BLE.

The layout, the packet-id cycle and the sign rule are those the decoder documents
(:mod:`emg.devices.decoders.ganglion`); the firmware 2 details follow OpenBCI
``OpenBCI_Ganglion_Library`` 2.0.1 (``processData``, ``buildRawPacket``/``sendRawPacket``,
``compressData18/19``). Samples are 24-bit counts: ``round(µV / scale_uv)`` clipped to
-2**23 .. 2**23 - 1. Every 18/19-bit field carries the sign in bit 0.

Firmware 3 (the profile's default)
    Every packet holds two samples as their top 19 bits (ids 100..199, accelerometer off: the
    default) or top 18 bits (ids 0..99, accelerometer on), with the sample's sign written into
    the lowest bit kept. The receiver restores ``field << 5`` (``<< 6``): a sample comes back
    within one field step **plus** the bit the sign replaced, i.e. less than 64 (128) counts,
    0.12 (0.24) µV, off. The cycle restarts at position 0 on every start. ``extra_packet=True``
    adds the released 3.0.x firmware's 101st packet per cycle (id 200, or an 18-bit id 100);
    its stale first sample is not emulated.

Firmware 2
    Sample 0 of every 201-sample cycle goes out raw (id 0: four 24-bit big-endian counts, one
    sample, padded with ``"ABCDEFG"``); samples 1..200 go out in pairs as deltas
    ``previous - current`` (ids 101..200, 19-bit; 1..100, 18-bit with the accelerometer on).
    The firmware takes each delta from the *true* previous sample and overwrites the delta's bit
    0 with its sign, so every odd delta is off by one and the receiver's running sum drifts by
    up to one count per delta until the next raw packet (at most 200 counts, 0.37 µV); this
    encoder does the same. A packet is sent when its second sample is taken, so a call of two
    samples returns 0, 1 or 2 notifications.

The byte after 18-bit fields (byte 19) carries an accelerometer axis on the real board; the
emulation has no accelerometer and sends 0. Impedance and message packets are not emulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from emg.devices.decoders.ganglion import CHANNELS, PACKET_BYTES, GanglionDecoder
from emg.devices.encoding import Encoder, Notification, quantise, register_encoder
from emg.devices.profiles import SensorProfile

#: Smallest and largest 24-bit ADC count.
COUNT_MIN, COUNT_MAX = -(1 << 23), (1 << 23) - 1
#: Samples per firmware 2 cycle: the raw sample, then 100 packets of two deltas.
FW2_CYCLE = 201
#: Padding after the four raw values of firmware 2's packet 0 (``sendRawPacket``).
RAW_PADDING = b"ABCDEFG"


def pack_fields(packet_id: int, fields: Sequence[int], width: int) -> bytes:
    """A 20-byte sample packet: the id, then eight ``width``-bit fields MSB first.

    Parameters
    ----------
    packet_id
        Byte 0.
    fields
        Eight unsigned ``width``-bit fields (channels 1-4 of the first sample, then of the
        second).
    width
        18 (bytes 1..18, byte 19 = 0: no accelerometer) or 19 (bytes 1..19).

    Returns
    -------
    bytes
        The packet.
    """
    bits = 0
    for field in fields:
        bits = (bits << width) | field
    used = width * len(fields)
    body = (bits << (8 * (PACKET_BYTES - 1) - used)).to_bytes(PACKET_BYTES - 1, "big")
    return bytes([packet_id]) + body


def msb_field(count: int, width: int) -> int:
    """Firmware 3: the sample's sign written into bit ``24 - width``, then its top ``width`` bits.

    Parameters
    ----------
    count
        A 24-bit signed sample.
    width
        18 or 19.

    Returns
    -------
    int
        The unsigned field.
    """
    shift = 24 - width
    signed = count | (1 << shift) if count < 0 else count & ~(1 << shift)
    return (signed >> shift) & ((1 << width) - 1)


def delta_field(delta: int, width: int) -> int:
    """Firmware 2: the delta with its sign in bit 0 (``bitWrite(d, 0, bitRead(d, 31))``), low bits.

    Parameters
    ----------
    delta
        ``previous - current``.
    width
        18 or 19.

    Returns
    -------
    int
        The unsigned field.
    """
    signed = (delta & ~1) | (1 if delta < 0 else 0)
    return signed & ((1 << width) - 1)


@register_encoder
class GanglionEncoder(Encoder):
    """Ganglion sample packets, firmware 2 or 3 as the profile's decoder says.

    Parameters
    ----------
    profile
        The Ganglion profile: 4 channels, ``scale_uv``, ``decoder.firmware`` (2 or 3; default 3).
    accelerometer
        Emulate a board with the accelerometer on: 18-bit fields (ids 0-99 for firmware 3,
        1-100 for firmware 2) instead of the default 19-bit ones.
    extra_packet
        Firmware 3 only: send the released 3.0.x firmware's 101st packet per cycle.

    Raises
    ------
    ValueError
        For a profile that is not a Ganglion's, or ``extra_packet`` with firmware 2.
    """

    kind: ClassVar[str] = "ganglion"

    def __init__(
        self, profile: SensorProfile, *, accelerometer: bool = False, extra_packet: bool = False
    ) -> None:
        super().__init__(profile)
        profile.decoder()  # validates the firmware parameter and the channel count
        firmware = profile.decoder_params.get("firmware", GanglionDecoder.parameters["firmware"])
        if firmware == 2 and extra_packet:
            raise ValueError("extra_packet is a firmware 3.0.x behaviour, not firmware 2's")
        self.firmware: int = int(firmware)
        self.width = 18 if accelerometer else 19
        self.extra_packet = extra_packet
        self._last_position = 100 if extra_packet else 99
        self.start(0)

    @property
    def samples_per_notification(self) -> int:
        """Two samples per packet."""
        return 2

    def start(self, device_time_us: int) -> None:
        """The board starts a stream at the start of its cycle (firmware 2: a raw packet).

        Parameters
        ----------
        device_time_us
            Unused: the Ganglion sends no device time.
        """
        self._position = 0  # firmware 3: position of the next packet in the cycle
        self._counter = 0  # firmware 2: ``sampleCounter`` of the next sample
        self._last: list[int] = [0] * CHANNELS  # firmware 2: ``lastChannelData``
        self._held: list[int] | None = None  # first sample (fw 3) or deltas (fw 2) of a pair

    def counts(self, samples_uv: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """24-bit ADC counts: ``round(µV / scale_uv)`` clipped to the ADC's range.

        Parameters
        ----------
        samples_uv
            Microvolts, any shape (NaN is taken as 0).

        Returns
        -------
        numpy.ndarray
            int64 counts, same shape.
        """
        return quantise(samples_uv, self.profile.scale_uv, COUNT_MIN, COUNT_MAX).astype(np.int64)

    def encode(
        self, samples_uv: npt.NDArray[np.float64], device_time_us: int
    ) -> list[Notification]:
        """The packets completed by these samples.

        Parameters
        ----------
        samples_uv
            ``(n, 4)`` microvolts, normally two samples.
        device_time_us
            Unused: the Ganglion sends no device time.

        Returns
        -------
        list of Notification
            Firmware 3: one packet per two samples. Firmware 2: one per completed pair of
            deltas, plus the raw packet when the cycle restarts.
        """
        values = np.asarray(samples_uv, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != CHANNELS:
            raise ValueError(f"samples must be (n, {CHANNELS}), got {values.shape}")
        characteristic = self.profile.notify[0]
        out = []
        for row in self.counts(values).tolist():
            payload = self._sample(row) if self.firmware == 2 else self._msb_sample(row)
            if payload is not None:
                out.append(Notification(characteristic, payload))
        return out

    def _msb_sample(self, sample: list[int]) -> bytes | None:
        """Firmware 3: hold the first sample of a pair, send both with the second."""
        if self._held is None:
            self._held = sample
            return None
        fields = [msb_field(v, self.width) for v in [*self._held, *sample]]
        self._held = None
        position = self._position
        self._position = 0 if position == self._last_position else position + 1
        packet_id = position + (100 if self.width == 19 else 0)
        return pack_fields(packet_id, fields, self.width)

    def _sample(self, sample: list[int]) -> bytes | None:
        """Firmware 2 (``processData``): raw at counter 0, deltas sent on even counters."""
        counter = self._counter
        self._counter = (counter + 1) % FW2_CYCLE
        if counter == 0:
            self._last = sample
            raw = b"".join(v.to_bytes(3, "big", signed=True) for v in sample)
            return b"\x00" + raw + RAW_PADDING
        deltas = [delta_field(p - c, self.width) for p, c in zip(self._last, sample, strict=True)]
        self._last = sample
        if counter % 2 == 1:  # the odd sample is packed first and waits for its partner
            self._held = deltas
            return None
        held, self._held = self._held or [0] * CHANNELS, None
        packet_id = counter // 2 + (100 if self.width == 19 else 0)
        return pack_fields(packet_id, [*held, *deltas], self.width)
