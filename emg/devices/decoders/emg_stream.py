"""emg-stream v1: the project's own reference firmware protocol.

The byte-level specification, with test vectors, is ``firmware_configs/emg-stream-v1/SPEC.md``;
the firmware packs packets with ``firmware_configs/emg-stream-v1/emg_stream.h``. In short, every
notification on the data characteristic is one packet, little-endian throughout:

======  ====  ======  ===================================================================
offset  size  type    field
======  ====  ======  ===================================================================
0       1     u8      protocol version (1)
1       1     u8      channels ``C`` (1 .. 8)
2       1     u8      samples per channel in this packet ``N`` (1 .. 255)
3       1     u8      flags: 0x01 stream start, 0x02 discontinuity, 0x04 clipped
4       2     u16     packet sequence number (0 at the first packet of a stream, wraps)
6       4     u32     device time of the packet's first sample, microseconds (wraps)
10      2CN   i16     samples, sample-major: ``s0c0 s0c1 .. s1c0 s1c1 ..``, ADC counts
======  ====  ======  ===================================================================

Loss and order
--------------
``lost`` (samples per channel missing just before a packet) is the sequence gap times ``N``:
``((seq - previous - 1) mod 65536) * N``. The device timestamp cross-checks it: the time since
the previous packet, in sample periods, minus the previous packet's ``N`` must agree within half
a packet. The timestamp also settles what the sequence alone cannot:

- a gap of a whole 65536 packets or more (the 16-bit counter wrapped during the outage):
  the count that agrees with the timestamp is taken;
- a packet flagged *discontinuity* (the device itself dropped samples the sequence does not
  count): the loss is taken from the timestamp;
- a packet flagged *stream start* (the firmware restarts the sequence at 0 on every start
  command): not a loss, ``lost`` is 0.

A packet whose timestamp does not advance past the previous one (a duplicate, or a packet
older than the last one) is malformed: it is counted and skipped, and the decoder's state is
left as it was (BLE delivers notifications of one link in order, so this is a sender fault).
A packet whose sequence gap and timestamp disagree otherwise is *suspect*
(:mod:`emg.devices.sequence_check`): it is dropped as malformed, counted in
:attr:`EmgStreamDecoder.suspects`, and the state stays at the last good packet, so one corrupt
sequence number costs its own packet and no more (the next good packet counts it as lost). When
the next packet follows the suspect one instead, the jump was real: a sequence that went back
or stood still starts a new stream (its start packet was lost; counted in
:attr:`EmgStreamDecoder.resyncs`), a clock that disagrees twice in a row means the profile's
``sample_rate`` is not the device's (the sequence is trusted from then on and the mismatch
counted in :attr:`EmgStreamDecoder.timing_mismatches`); the suspect's own samples count as
lost.

``device_time_s`` is the device time of the first sample in seconds, unwrapped across the
32-bit microsecond wrap (every 4294.97 s) for as long as the decoder runs; :meth:`reset` (after a
reconnect) starts afresh.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np

from emg.devices.decoding import DecodedPacket, Decoder, MalformedPacket, register
from emg.devices.sequence_check import SequenceCheck

#: Protocol version this module reads.
VERSION = 1
#: Packet header: version, channels, samples per channel, flags, sequence, timestamp (µs).
HEADER = struct.Struct("<BBBBHI")
#: Bytes of :data:`HEADER`.
HEADER_SIZE = HEADER.size
#: Most channels a packet may carry.
MAX_CHANNELS = 8
#: ATT notification overhead: a notification carries at most ``MTU - 3`` bytes.
ATT_OVERHEAD = 3

#: First packet of a stream (sequence 0, after a start command).
FLAG_STREAM_START = 0x01
#: The device dropped samples before this packet that the sequence does not count.
FLAG_DISCONTINUITY = 0x02
#: At least one sample of this packet is at an end of the ADC's range.
FLAG_CLIPPED = 0x04

#: The made-up 128-bit UUID base of the protocol: ``e3a1XXXX-7c2b-4f5e-9d8a-3b6c0e5f1a27``.
UUID_BASE = "-7c2b-4f5e-9d8a-3b6c0e5f1a27"
#: Primary service (advertised).
SERVICE_UUID = "e3a10001" + UUID_BASE
#: Data characteristic (notify): one packet per notification.
DATA_UUID = "e3a10002" + UUID_BASE
#: Control characteristic (write, write without response, notify): commands and responses.
CONTROL_UUID = "e3a10003" + UUID_BASE
#: Info characteristic (read): :class:`StreamInfo`.
INFO_UUID = "e3a10004" + UUID_BASE

#: First byte of every response notified on the control characteristic.
RESPONSE_CODE = 0xF0


class Opcode(IntEnum):
    """Command op codes written to the control characteristic."""

    START = 0x01
    STOP = 0x02
    GET_INFO = 0x03
    IDENTIFY = 0x04
    SET_SAMPLE_RATE = 0x05
    SET_BATCH_LIMIT = 0x06


class Status(IntEnum):
    """Status byte of a command response."""

    OK = 0x00
    UNKNOWN_OPCODE = 0x01
    INVALID_LENGTH = 0x02
    INVALID_PARAMETER = 0x03
    INVALID_STATE = 0x04


#: Fixed part of the info payload (also the data of a GET_INFO response), then the name length.
INFO_FIXED = struct.Struct("<BBHfBBBBBBB")
#: Longest firmware name in the info payload.
INFO_MAX_NAME = 32


@dataclass(frozen=True)
class StreamInfo:
    """What the info characteristic says about the device.

    Attributes
    ----------
    protocol_version
        1 for this protocol.
    channels
        Channels per sample.
    sample_rate_hz
        Samples per second per channel.
    uv_per_count
        Microvolts at the electrodes per ADC count.
    samples_per_packet
        Samples per channel per packet at the current MTU and batch limit.
    streaming
        Whether the device is streaming.
    adc_bits
        Resolution of the device's ADC.
    firmware_version
        ``(major, minor, patch)``.
    firmware_name
        Firmware name (empty in a GET_INFO response, which carries the fixed part only).
    """

    protocol_version: int
    channels: int
    sample_rate_hz: int
    uv_per_count: float
    samples_per_packet: int
    streaming: bool
    adc_bits: int
    firmware_version: tuple[int, int, int]
    firmware_name: str


def parse_info(payload: bytes) -> StreamInfo:
    """Read the info characteristic's value, or the data of a GET_INFO response.

    Parameters
    ----------
    payload
        15 bytes and the name (info characteristic) or the 14-byte fixed part alone.

    Returns
    -------
    StreamInfo
        The decoded fields.

    Raises
    ------
    MalformedPacket
        For a payload that is too short, has a wrong name length or a non-ASCII name.
    """
    fixed = INFO_FIXED.size - 1
    if len(payload) < fixed:
        raise MalformedPacket(f"info payload of {len(payload)} bytes, needs at least {fixed}")
    if len(payload) == fixed:
        values = INFO_FIXED.unpack(bytes(payload) + b"\x00")
    else:
        values = INFO_FIXED.unpack_from(payload)
    version, channels, rate, uv, spp, state, bits, major, minor, patch, name_len = values
    if len(payload) != fixed and len(payload) != INFO_FIXED.size + name_len:
        raise MalformedPacket(
            f"info payload of {len(payload)} bytes, its name length {name_len} says"
            f" {INFO_FIXED.size + name_len}"
        )
    try:
        name = bytes(payload[INFO_FIXED.size :]).decode("ascii")
    except UnicodeDecodeError:
        raise MalformedPacket("info firmware name is not ASCII") from None
    return StreamInfo(
        protocol_version=version,
        channels=channels,
        sample_rate_hz=rate,
        uv_per_count=uv,
        samples_per_packet=spp,
        streaming=bool(state & 0x01),
        adc_bits=bits,
        firmware_version=(major, minor, patch),
        firmware_name=name,
    )


def parse_response(payload: bytes) -> tuple[int, Status, bytes]:
    """Read a response notified on the control characteristic.

    Parameters
    ----------
    payload
        ``F0``, the op code answered, the status, then data.

    Returns
    -------
    tuple
        ``(opcode, status, data)``.

    Raises
    ------
    MalformedPacket
        For a payload that is not a response.
    """
    if len(payload) < 3 or payload[0] != RESPONSE_CODE:
        raise MalformedPacket(f"not a control response: {bytes(payload).hex(' ')}")
    try:
        status = Status(payload[2])
    except ValueError:
        raise MalformedPacket(f"unknown response status 0x{payload[2]:02x}") from None
    return payload[1], status, bytes(payload[3:])


def command(opcode: Opcode, argument: int | None = None) -> bytes:
    """The bytes of a command for the control characteristic.

    Parameters
    ----------
    opcode
        What to do.
    argument
        Sample rate in Hz for SET_SAMPLE_RATE (u16), samples per packet for SET_BATCH_LIMIT
        (u8, 0 = as many as fit); none for the others.

    Returns
    -------
    bytes
        E.g. ``01`` (start) or ``05 e8 03`` (1000 Hz).
    """
    if opcode is Opcode.SET_SAMPLE_RATE:
        if argument is None or not 0 <= argument <= 0xFFFF:
            raise ValueError("SET_SAMPLE_RATE takes a rate of 0 .. 65535 Hz")
        return struct.pack("<BH", opcode, argument)
    if opcode is Opcode.SET_BATCH_LIMIT:
        if argument is None or not 0 <= argument <= 0xFF:
            raise ValueError("SET_BATCH_LIMIT takes 0 .. 255 samples")
        return struct.pack("<BB", opcode, argument)
    if argument is not None:
        raise ValueError(f"{opcode.name} takes no argument")
    return bytes([opcode])


def samples_per_packet(mtu: int, channels: int, limit: int = 0) -> int:
    """Samples per channel that fit one notification.

    Parameters
    ----------
    mtu
        The negotiated ATT MTU (23 unless exchanged).
    channels
        Channels per sample.
    limit
        The batch limit (0 = none).

    Returns
    -------
    int
        ``min((mtu - 3 - 10) // (2 * channels), 255, limit or 255)``; 0 if not one fits.
    """
    room = max(mtu - ATT_OVERHEAD - HEADER_SIZE, 0) // (2 * channels)
    return min(room, 255, limit if limit > 0 else 255)


@register
class EmgStreamDecoder(Decoder):
    """Packets of the emg-stream v1 reference firmware (see the module docs and SPEC.md).

    Parameters
    ----------
    params
        None: the packets describe themselves.
    channels
        Channels the profile expects; a packet with another count is malformed.
    scale_uv
        Microvolts per ADC count (MyoWare 2.0 RAW on a 12-bit, 3.3 V ADC: 3.3 V / 4096 / 200).
    sample_rate
        Samples per second per channel; used to cross-check the sequence with the timestamps.

    Attributes
    ----------
    timing_mismatches
        Packets whose sequence gap and timestamp disagreed (the sequence was trusted).
    suspects
        Packets dropped because their sequence gap and timestamp disagreed.
    resyncs
        Packets taken as the start of a new stream although not flagged so.
    clipped_packets
        Packets the device flagged as clipped.
    """

    kind: ClassVar[str] = "emg-stream-v1"
    parameters: ClassVar[Mapping[str, Any]] = {}

    def __init__(
        self, params: Mapping[str, Any], channels: int, scale_uv: float, sample_rate: float
    ) -> None:
        super().__init__(params, channels, scale_uv, sample_rate)
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"emg-stream v1 carries 1 to {MAX_CHANNELS} channels, not {channels}")
        self._scale = np.float32(scale_uv)
        self._check = SequenceCheck(sample_rate, self.kind)
        self.clipped_packets = 0

    @property
    def timing_mismatches(self) -> int:
        """Packets accepted although the device clock disagreed with their sequence."""
        return self._check.timing_mismatches

    @property
    def resyncs(self) -> int:
        """Packets taken as the start of a new stream although not flagged so."""
        return self._check.resyncs

    @property
    def suspects(self) -> int:
        """Packets dropped because their sequence number and device time disagreed."""
        return self._check.suspects

    def reset(self) -> None:
        """Forget the previous packet (after a reconnect the firmware restarts at sequence 0)."""
        self._check.reset()

    def _decode(self, payload: bytes, characteristic: str | None) -> list[DecodedPacket]:
        if len(payload) < HEADER_SIZE:
            raise MalformedPacket(
                f"{len(payload)} bytes, shorter than the {HEADER_SIZE}-byte header"
            )
        version, channels, n, flags, sequence, timestamp = HEADER.unpack_from(payload)
        if version != VERSION:
            raise MalformedPacket(f"protocol version {version}, expected {VERSION}")
        if channels != self.channels:
            raise MalformedPacket(
                f"{channels} channels in the header, the profile says {self.channels}"
            )
        if n == 0:
            raise MalformedPacket("0 samples per channel in the header")
        size = HEADER_SIZE + 2 * channels * n
        if len(payload) != size:
            raise MalformedPacket(
                f"{len(payload)} bytes, but {n} samples x {channels} channels need {size}"
            )
        lost = self._check.advance(
            sequence,
            timestamp,
            n,
            start=bool(flags & FLAG_STREAM_START),
            gap_flag=bool(flags & FLAG_DISCONTINUITY),
        )
        counts = np.frombuffer(payload, dtype="<i2", offset=HEADER_SIZE).reshape(n, channels)
        samples = counts.astype(np.float32)
        samples *= self._scale
        if flags & FLAG_CLIPPED:
            self.clipped_packets += 1
        return [
            DecodedPacket(
                samples=samples,
                sequence=sequence,
                lost=lost,
                device_time_s=self._check.time_us / 1e6,
            )
        ]
