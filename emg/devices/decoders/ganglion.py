"""OpenBCI Ganglion over BLE: 20-byte packets, two samples of four channels each, 200 Hz.

Sources (public): OpenBCI Documentation "Ganglion Data Format" (the firmware 2 version with its
worked 18-/19-bit examples, and the firmware 3 version), OpenBCI ``OpenBCI_Ganglion_Library``
(firmware 2.0.1: ``processData``, ``compressData18/19``, ``sendRawPacket``; firmware 3.0.x as
carried by public forks: ``compressData18/19`` sending MSBs), brainflow ``ganglion_native.cpp``,
``ganglion_native_v2.cpp`` and ``ganglion_native_v3.cpp`` (decoders of both firmwares), the
OpenBCI GUI's ``PacketLossTrackerGanglionBLE2/3`` (packet-id sequences) and the firmware author's
pull request OpenBCI_Ganglion_Library#31 (the released firmware 3's 201-sample loop).

Packet layout
-------------
Byte 0 is the packet id; bytes 1..19 carry eight fields (channels 1-4 of the first sample, then
channels 1-4 of the second), packed most significant bit first across the bytes: 18-bit fields
fill bytes 1..18 (byte 19 then holds an accelerometer axis when ``id % 10`` is 1, 2 or 3),
19-bit fields fill bytes 1..19. The ADC sample is a 24-bit signed count.

Both firmwares move the sign into **bit 0** of every 18/19-bit field (a set bit 0 means negative,
the rest is the two's complement of the value: ``value = field - 2**w`` when bit 0 is set), at
the cost of the value's lowest bit. This is the documented rule ("Keep in mind we look to the LSB
for the sign"), checked against the documentation's worked vectors in the tests.

============  ==========================  ==================================================
packet id     firmware 2 (delta)          firmware 3 (most significant bits)
============  ==========================  ==================================================
0             raw: 4 x 24-bit big-endian  18-bit fields, see 1-99
              signed, **one** sample;
              reseeds the deltas
1-99          18-bit deltas, 2 samples    18-bit ``sample >> 6``, 2 samples
100           18-bit deltas, 2 samples    19-bit ``sample >> 5``; 18-bit after 99 (3.0.x)
101-199       19-bit deltas, 2 samples    19-bit ``sample >> 5``, 2 samples
200           19-bit deltas, 2 samples    19-bit, sent by the released 3.0.x firmware only
201-205       impedance of channel 1-4 / REF, ASCII ohms ending in ``Z``: no samples
206, 207      part / end of an ASCII message: no samples
============  ==========================  ==================================================

Firmware 2 sends ``delta = previous - current`` per channel, so ``sample = previous - delta``
(the first sample of a packet from the last sample decoded, the second from the first). Ids
1-100 are used while the accelerometer is on (18 bits leave byte 19 for it), 101-200 while it is
off (the default). Firmware 3 sends the top 18 (19) bits of each sample; the decoder restores
``value << 6`` (``<< 5``), exact to 64 (32) counts, i.e. 0.12 (0.06) uV. The docs' packet-id
table still shows the firmware 2 ranges; the firmware 3 ranges above are those of brainflow,
the OpenBCI GUI and the firmware 3 documentation text.

Brainflow reads the sign of these fields from the *top* bit instead and subtracts one more for
negative values ("a quirk in ganglion data"). For firmware 3 the top bit and bit 0 always agree
(the top bit is the sample's sign, and the firmware writes the sign into bit 0 too), so the two
readings differ by one field step on negative values only (64 or 32 counts, 0.12 or 0.06 uV);
for firmware 2 deltas of 2**17 (2**18) counts or more only the bit-0 rule is right (the
documentation's example ``-198429`` has a clear top bit).

Packet cycle and loss
---------------------
The id is a position in a cycle, the only loss counter:

- firmware 2: id 0 (the raw packet, 1 sample), then 100 packets of 2 samples: ids 1..100 or
  101..200, then 0 again; 201 samples per cycle. Wraps 100 -> 0 and 200 -> 0 are not gaps.
  Switching the accelerometer mid-cycle moves between the ranges without breaking the cycle
  (position = ``id`` or ``id - 100``).
- firmware 3: no raw packet; ids 0..99 (accelerometer on) or 100..199 (off, the default), 2
  samples each, wrapping 99 -> 0 and 199 -> 100. The released 3.0.x firmware loops over 201
  samples and sends one more packet per cycle, id 200 after 199 (with the accelerometer on, an
  *18-bit* packet with id 100 after 99); the decoder takes both as position 100 of the cycle and
  learns that the cycle has 101 positions once it has seen one.

``lost`` is the number of samples per channel in the positions skipped since the last packet
(2 per packet, 1 for firmware 2's raw packet). A gap is only known modulo one cycle (about a
second): longer outages alias and show in the arrival times. The board starts every stream at
position 0 (it resets on every connect), so the first packet after :meth:`GanglionDecoder.reset`
counts the positions before it as lost too. Impedance packets mean the sample stream was stopped:
the next sample packet is taken as a new stream start.

Firmware 2 without a reference
------------------------------
A firmware 2 delta packet that arrives before any raw packet (or after
:meth:`GanglionDecoder.reset`) cannot be decoded: its samples are counted as *lost* (not
malformed: the packet is well formed, the decoder lacks the state), and the count is reported on
the next decoded packet, normally the raw packet that reseeds the decoder at most one cycle
later. After a gap the delta chain continues from the last decoded sample, so the samples until
the next raw packet are offset by the missed deltas (a DC step that an EMG high-pass removes);
the raw packet puts them right again (brainflow and the OpenBCI GUI do the same).

The accelerometer byte is ignored (this is an EMG toolkit; the profile never enables it).
``sequence`` is the packet id as sent; the protocol has no device clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from emg.devices.decoding import LOG, DecodedPacket, Decoder, MalformedPacket, register

#: Bytes of every sample packet.
PACKET_BYTES = 20
#: Channels of a Ganglion.
CHANNELS = 4
#: Ids of the impedance packets (channel 1-4, then REF).
IMPEDANCE_IDS = range(201, 206)
#: Ids of ASCII message packets (part, last part).
MESSAGE_IDS = (206, 207)
#: Bits in bytes 1..19 of a packet.
_PAYLOAD_BITS = 8 * (PACKET_BYTES - 1)


def unpack_fields(payload: bytes, width: int) -> list[int]:
    """The eight signed 18- or 19-bit fields of a sample packet.

    Parameters
    ----------
    payload
        A whole 20-byte packet (byte 0 is the id).
    width
        18 or 19.

    Returns
    -------
    list of int
        Channels 1-4 of the first sample, then of the second, with the sign taken from bit 0
        (``field - 2**width`` when bit 0 is set).
    """
    bits = int.from_bytes(payload[1:PACKET_BYTES], "big")
    mask = (1 << width) - 1
    values = []
    for k in range(2 * CHANNELS):
        field = (bits >> (_PAYLOAD_BITS - (k + 1) * width)) & mask
        values.append(field - (1 << width) if field & 1 else field)
    return values


@register
class GanglionDecoder(Decoder):
    """OpenBCI Ganglion sample packets, firmware 2 or 3 (see the module docs).

    Parameters
    ----------
    params
        ``firmware``: 2 (delta compression with a raw packet per cycle) or 3 (the default:
        most significant bits, current since 2023). The profile sets it; the acquisition layer
        overrides it from the Software Revision String (``2a28``: "3..." is firmware 3) at
        connect time.
    channels
        Must be 4.
    scale_uv
        Microvolts per ADC count: 15686 / 8388607 = 0.001869917138805.
    sample_rate
        200 Hz on the Ganglion.
    """

    kind: ClassVar[str] = "ganglion"
    parameters: ClassVar[Mapping[str, Any]] = {"firmware": 3}

    #: Firmware 2: the last sample decoded, in counts (the reference of the next delta).
    _reference: list[int] | None
    #: Cycle position of the last sample packet (``None``: a stream starts next).
    _position: int | None
    #: Highest position of the cycle (100 for firmware 2; 99, or 100 once seen, for 3).
    _last_position: int
    #: Field bits of the last sample packet (0: firmware 2's raw packet, or none yet).
    _last_width: int
    #: Samples lost but not yet reported (firmware 2 deltas without a reference).
    _pending_lost: int

    def __init__(
        self, params: Mapping[str, Any], channels: int, scale_uv: float, sample_rate: float
    ) -> None:
        super().__init__(params, channels, scale_uv, sample_rate)
        firmware = self.params["firmware"]
        if isinstance(firmware, bool) or not isinstance(firmware, int) or firmware not in (2, 3):
            raise ValueError(f"firmware must be 2 or 3 for decoder 'ganglion', not {firmware!r}")
        if channels != CHANNELS:
            raise ValueError(f"a Ganglion has {CHANNELS} channels, the profile says {channels}")
        self.firmware: int = firmware
        self.reset()

    def reset(self) -> None:
        """Forget the reference sample and the cycle position (the board restarts at 0)."""
        self._reference = None
        self._position = None
        self._last_position = 100 if self.firmware == 2 else 99
        self._last_width = 0
        self._pending_lost = 0

    def _decode(self, payload: bytes, characteristic: str | None) -> list[DecodedPacket]:
        if not payload:
            raise MalformedPacket("empty payload")
        packet_id = payload[0]
        if packet_id in IMPEDANCE_IDS:
            self._position = None  # impedance testing stops the sample stream
            LOG.debug("ganglion: impedance %s: %r", _impedance_input(packet_id), payload[1:])
            return []
        if packet_id in MESSAGE_IDS:
            LOG.debug("ganglion: message part: %r", payload[1:])
            return []
        if packet_id > 200:
            raise MalformedPacket(f"unknown packet id {packet_id}")
        if len(payload) != PACKET_BYTES:
            raise MalformedPacket(
                f"{len(payload)} bytes in sample packet {packet_id}; Ganglion packets have 20"
            )
        if self.firmware == 2:
            return self._decode_deltas(payload, packet_id)
        return self._decode_msbs(payload, packet_id)

    def _decode_deltas(self, payload: bytes, packet_id: int) -> list[DecodedPacket]:
        """Firmware 2: a raw packet (id 0) or 18/19-bit deltas."""
        if packet_id == 0:
            lost = self._pending_lost + self._skipped(0)
            sample = [
                int.from_bytes(payload[1 + 3 * i : 4 + 3 * i], "big", signed=True)
                for i in range(CHANNELS)
            ]
            self._reference, self._last_width, self._pending_lost = sample, 0, 0
            return [self._packet([sample], packet_id, lost)]
        width = 18 if packet_id <= 100 else 19
        lost = self._pending_lost + self._skipped(packet_id if width == 18 else packet_id - 100)
        self._last_width = width
        if self._reference is None:
            self._pending_lost = lost + 2
            return []
        deltas = unpack_fields(payload, width)
        first = [r - d for r, d in zip(self._reference, deltas[:CHANNELS], strict=True)]
        second = [f - d for f, d in zip(first, deltas[CHANNELS:], strict=True)]
        self._reference, self._pending_lost = second, 0
        return [self._packet([first, second], packet_id, lost)]

    def _decode_msbs(self, payload: bytes, packet_id: int) -> list[DecodedPacket]:
        """Firmware 3: the top 18/19 bits of every sample."""
        if packet_id < 100 or (packet_id == 100 and self._last_width == 18):
            width, position = 18, packet_id  # id 100 after 18-bit packets: the 3.0.x extra one
        else:
            width, position = 19, packet_id - 100
        lost = self._skipped(position)
        self._last_width = width
        shift = 24 - width
        values = [v << shift for v in unpack_fields(payload, width)]
        return [self._packet([values[:CHANNELS], values[CHANNELS:]], packet_id, lost)]

    def _skipped(self, position: int) -> int:
        """Samples per channel in the cycle positions skipped before ``position``."""
        previous, self._position = self._position, position
        if position > self._last_position:
            self._last_position = position  # firmware 3.0.x: the cycle has 101 positions
        if previous is None:  # a stream starts at position 0
            n_skipped, wrapped = position, True
        else:
            n_skipped = (position - previous - 1) % (self._last_position + 1)
            wrapped = position <= previous
        # position 0 is skipped when the gap wraps past it; firmware 2's raw packet has 1 sample
        raw_skipped = self.firmware == 2 and wrapped and position != 0 and n_skipped > 0
        return 2 * n_skipped - int(raw_skipped)

    def _packet(self, rows: list[list[int]], sequence: int, lost: int) -> DecodedPacket:
        counts = np.array(rows, dtype=np.float64)
        samples = (counts * self.scale_uv).astype(np.float32)
        return DecodedPacket(samples=samples, sequence=sequence, lost=lost)


def _impedance_input(packet_id: int) -> str:
    """The input an impedance packet is about: ``"1"`` .. ``"4"`` or ``"REF"``."""
    return "REF" if packet_id == 205 else str(packet_id - 200)
