"""BITalino (r)evolution over BLE: a byte stream of CRC4-checked frames, reassembled here.

Sources (public): BITalinoWorld ``firmware-BT121`` (GATT service and the BGScript bridge) and
BITalinoWorld ``revolution-python-api`` ``bitalino.py`` (frame size, bit layout, CRC4, command
bytes); the EMG transfer function and its gain from the BITalino (r)evolution EMG sensor
datasheet as quoted by PGomes92 ``opensignalsreader`` (``G_EMG = 1009``).

The BT121 firmware is a transparent UART bridge: every chunk of bytes the BITalino's
microcontroller writes to its UART becomes one notification on the *frames* characteristic, so
frames are **not** aligned to notifications. The decoder keeps a byte buffer across
:meth:`BitalinoDecoder.decode` calls and cuts frames out of it.

Frame layout
------------
One frame per sample instant. With ``n`` acquired analog channels a frame has
``ceil((12 + 10 n) / 8)`` bytes for ``n <= 4`` and ``ceil((52 + 6 (n - 4)) / 8)`` bytes for
``n = 5, 6`` (3, 4, 6, 7, 8, 8 bytes for ``n = 1 .. 6``). Read as one little-endian integer of
``B = 8 * size`` bits, the fields are packed from the top bit down:

=============  ======  ==============================================
field          bits    position
=============  ======  ==============================================
sequence       4       ``[B-4, B)`` (high nibble of the last byte)
CRC4           4       ``[B-8, B-4)`` (low nibble of the last byte)
digital        4       I1 I2 O1 O2, ``[B-12, B-8)``
slot 1 .. 4    10      next 10 bits each, downwards
slot 5, 6      6       next 6 bits each
(padding)              zero bits at the bottom
=============  ======  ==============================================

Slot ``i`` carries the ``i``-th *acquired* analog input in ascending order (A1 before A3), so
the resolution belongs to the slot: the first four acquired inputs are 10-bit, a fifth and sixth
are 6-bit (this is why the BITalino datasheets say "A1-A4 10-bit, A5-A6 6-bit").

The CRC4 (generator ``x^4 + x + 1``) runs over every bit of the frame, most significant bit of
the first byte first, with the CRC nibble itself taken as zero.

Synchronisation and loss
------------------------
A 4-bit CRC passes one random window in 16, too weak on its own to find frame boundaries in a
stream of 3-byte frames. So the decoder locks only on *two* consecutive CRC-valid frames whose
sequence numbers follow each other; once locked it takes each CRC-valid frame as it comes. On a
CRC failure it unlocks, drops one byte and tries again until it locks anew; each such resync run
counts as **one** malformed event in :attr:`~emg.devices.decoding.Decoder.stats` (not one per
dropped byte). At the start of a stream (and after :meth:`BitalinoDecoder.reset`) the decoder is
unlocked too, so the first frame is delivered together with the second (and dropped if the
second is broken). A single corrupted frame therefore costs that frame only: the next two lock
the stream again. CRC4 misses one random corruption in 16 (never a single-bit error), and a
misaligned window can still pass CRC and confirmation by chance (about 1 in 4096 per offset).

``lost`` is the 4-bit sequence gap: ``(sequence - previous - 1) mod 16`` frames, i.e. samples
per channel. It cannot see 16 or more lost frames in a row (they alias to a smaller number);
arrival times show those.

Packets
-------
``decode`` returns the frames completed by one notification as one
:class:`~emg.devices.decoding.DecodedPacket` per run of consecutive frames: normally a single
packet with all of them; a new packet starts wherever the sequence jumps, so each packet's
``sequence`` is that of its first frame and its ``lost`` counts the frames missing just before
it. The protocol has no device clock: ``device_time_s`` is ``None``.

Units
-----
The EMG sensor's output is an *affine* function of the ADC value, not a scale::

    EMG(uV) = (ADC / 2**n - 1/2) * VCC / G_EMG * 1e6

with ``n`` the slot's bits, ``VCC = 3.3`` V and ``G_EMG = 1009`` (BITalino (r)evolution EMG
sensor; the 2014 original BITalino kit used 1000, and 1100 is the *ECG* sensor's gain). The
decoder applies it; the profile's ``stream.scale_uv`` must therefore be 1.0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from emg.devices.decoding import LOG, DecodedPacket, Decoder, register

#: Bits of the analog slots, in frame order (slot 1 first).
SLOT_BITS = (10, 10, 10, 10, 6, 6)
#: Bits of the header at the top of a frame: sequence, CRC4, 4 digital channels.
HEADER_BITS = 12


def frame_size(n_channels: int) -> int:
    """Bytes per frame for ``n_channels`` acquired analog inputs.

    Parameters
    ----------
    n_channels
        1 to 6.

    Returns
    -------
    int
        3, 4, 6, 7, 8 or 8 bytes.
    """
    if not 1 <= n_channels <= len(SLOT_BITS):
        raise ValueError(f"a BITalino acquires 1 to 6 analog channels, not {n_channels}")
    bits = HEADER_BITS + sum(SLOT_BITS[:n_channels])
    return (bits + 7) // 8


def _crc4_step(state: int, byte: int) -> int:
    """The CRC4 register after shifting in the 8 bits of ``byte``, most significant first."""
    for bit in range(7, -1, -1):
        top = state & 0x8
        state = (state << 1) & 0xF
        if top:
            state ^= 0x3  # x^4 = x + 1 (mod x^4 + x + 1)
        state ^= (byte >> bit) & 1
    return state


#: _CRC4_TABLE[state][byte] -> state after that byte.
_CRC4_TABLE = tuple(tuple(_crc4_step(state, byte) for byte in range(256)) for state in range(16))


def frame_crc4(frame: bytes | bytearray | memoryview) -> int:
    """The CRC4 of a frame, computed with the CRC nibble (low nibble of the last byte) as zero.

    Parameters
    ----------
    frame
        One whole frame.

    Returns
    -------
    int
        0 to 15; the frame is intact when it equals ``frame[-1] & 0x0F``.
    """
    state = 0
    for byte in frame[:-1]:
        state = _CRC4_TABLE[state][byte]
    return _CRC4_TABLE[state][frame[-1] & 0xF0]


@register
class BitalinoDecoder(Decoder):
    """BITalino (r)evolution frames reassembled from a BLE byte stream (see the module docs).

    Parameters
    ----------
    params
        ``channels_acquired``: the analog inputs acquired, numbered 1 to 6 as on the board
        (``[1]`` for A1 only; must match the start command). ``emg_inputs``: which of them carry
        EMG and become the decoder's channels, in this order (default: the first ``channels``
        acquired). ``resolution_bits``: the ADC bits of the EMG slots (10 for slots 1-4, 6 for
        slots 5-6; checked against the frame layout). ``gain`` and ``vcc``: the EMG sensor's
        gain (1009) and supply (3.3 V) of the transfer function.
    channels
        EMG channels the profile exposes.
    scale_uv
        Must be 1.0: the transfer function is applied here.
    sample_rate
        Samples per second per channel (1, 10, 100 or 1000 on the device).
    """

    kind: ClassVar[str] = "bitalino"
    parameters: ClassVar[Mapping[str, Any]] = {
        "channels_acquired": [1],
        "emg_inputs": [],
        "resolution_bits": 10,
        "gain": 1009.0,
        "vcc": 3.3,
    }

    def __init__(
        self, params: Mapping[str, Any], channels: int, scale_uv: float, sample_rate: float
    ) -> None:
        super().__init__(params, channels, scale_uv, sample_rate)
        if scale_uv != 1.0:
            raise ValueError(
                "the bitalino decoder applies the EMG transfer function itself: set"
                f" stream.scale_uv = 1.0 (not {scale_uv:g}) and change decoder gain/vcc instead"
            )
        acquired = sorted(_inputs(self.params["channels_acquired"], "channels_acquired"))
        if not acquired:
            raise ValueError("channels_acquired must name at least one analog input (1-6)")
        emg = _inputs(self.params["emg_inputs"], "emg_inputs") or acquired[:channels]
        if len(emg) != channels:
            raise ValueError(
                f"{len(emg)} EMG input(s) ({emg}) for {channels} channel(s): give emg_inputs or"
                " acquire more channels"
            )
        missing = [a for a in emg if a not in acquired]
        if missing:
            raise ValueError(f"emg_inputs {missing} are not in channels_acquired {acquired}")
        bits = self.params["resolution_bits"]
        if isinstance(bits, bool) or not isinstance(bits, int):
            raise ValueError(f"resolution_bits must be a whole number, not {bits!r}")
        slots = [acquired.index(a) for a in emg]
        wrong = [f"A{acquired[s]} ({SLOT_BITS[s]} bits)" for s in slots if SLOT_BITS[s] != bits]
        if wrong:
            raise ValueError(
                f"resolution_bits = {bits} but with {len(acquired)} channels acquired the frame"
                f" carries {', '.join(wrong)}"
            )
        gain, vcc = _positive(self.params["gain"], "gain"), _positive(self.params["vcc"], "vcc")
        self.acquired = tuple(acquired)
        self.frame_bytes = frame_size(len(acquired))
        total_bits = 8 * self.frame_bytes
        shifts, top = [], total_bits - HEADER_BITS
        for width in SLOT_BITS[: len(acquired)]:
            top -= width
            shifts.append(top)
        #: (bit shift, mask) of each EMG channel's slot in the frame integer.
        self._fields = tuple((shifts[s], (1 << SLOT_BITS[s]) - 1) for s in slots)
        # uV = adc * _uv_per_count - _uv_offset, per channel (the transfer function, expanded)
        span_uv = 1e6 * vcc / gain
        self._uv_per_count = np.array(
            [span_uv / (1 << SLOT_BITS[s]) for s in slots], dtype=np.float64
        )
        self._uv_offset = 0.5 * span_uv
        self._seq_shift = total_bits - 4
        self._buffer = bytearray()
        self._locked = False
        self._resyncing = False
        self._last_seq: int | None = None

    def reset(self) -> None:
        """Forget buffered bytes, the lock and the sequence (after a reconnect)."""
        self._buffer.clear()
        self._locked = False
        self._resyncing = False
        self._last_seq = None

    def adc_to_uv(self, adc: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The EMG transfer function: ADC values ``(n, channels)`` to microvolts.

        Parameters
        ----------
        adc
            Raw slot values, one column per EMG channel.

        Returns
        -------
        numpy.ndarray
            float64 microvolts, same shape.
        """
        values = np.asarray(adc, dtype=np.float64)
        result: npt.NDArray[np.float64] = values * self._uv_per_count - self._uv_offset
        return result

    def _decode(self, payload: bytes, characteristic: str | None) -> list[DecodedPacket]:
        buffer, size = self._buffer, self.frame_bytes
        buffer.extend(payload)
        runs: list[tuple[int, int, list[tuple[int, ...]]]] = []  # (sequence, lost, adc rows)
        pos = 0
        while len(buffer) - pos >= size:
            if not self._frame_ok(pos):
                self._unlock(pos, "CRC4 mismatch")
                pos += 1
                continue
            if not self._locked:
                if len(buffer) - pos < 2 * size:
                    break  # wait for the frame that confirms this one
                if not (
                    self._frame_ok(pos + size)
                    and buffer[pos + 2 * size - 1] >> 4 == ((buffer[pos + size - 1] >> 4) + 1) % 16
                ):
                    self._unlock(pos, "no two consecutive frames")
                    pos += 1
                    continue
                self._locked, self._resyncing = True, False
            self._take(pos, runs)
            pos += size
        del buffer[:pos]
        packets = []
        for sequence, lost, rows in runs:
            samples = self.adc_to_uv(np.array(rows, dtype=np.float64).reshape(-1, self.channels))
            packets.append(
                DecodedPacket(samples=samples.astype(np.float32), sequence=sequence, lost=lost)
            )
        return packets

    def _frame_ok(self, pos: int) -> bool:
        end = pos + self.frame_bytes
        return frame_crc4(memoryview(self._buffer)[pos:end]) == self._buffer[end - 1] & 0x0F

    def _take(self, pos: int, runs: list[tuple[int, int, list[tuple[int, ...]]]]) -> None:
        """Append the frame at ``pos`` to the current run, or start a run after a gap."""
        value = int.from_bytes(self._buffer[pos : pos + self.frame_bytes], "little")
        sequence = value >> self._seq_shift
        lost = 0 if self._last_seq is None else (sequence - self._last_seq - 1) % 16
        self._last_seq = sequence
        row = tuple((value >> shift) & mask for shift, mask in self._fields)
        if runs and lost == 0:
            runs[-1][2].append(row)
        else:
            runs.append((sequence, lost, [row]))

    def _unlock(self, pos: int, why: str) -> None:
        """Leave the lock; count and log a malformed event once per resync run."""
        self._locked = False
        if self._resyncing:
            return
        self._resyncing = True
        self.stats.malformed += 1
        self.stats.last_error = f"{why}; resynchronising"
        LOG.warning(
            "%s: %s at %s; resynchronising",
            self.kind,
            why,
            bytes(self._buffer[pos : pos + self.frame_bytes]).hex(),
        )


def _inputs(value: Any, name: str) -> list[int]:
    """Analog input numbers 1-6, each at most once."""
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 6 for v in value
    ):
        raise ValueError(f"{name} must be a list of analog inputs 1 to 6 (A1..A6), not {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{name} names an input twice: {value}")
    return list(value)


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return float(value)
