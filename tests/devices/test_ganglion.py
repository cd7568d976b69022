"""OpenBCI Ganglion decoder: packets built bit by bit from the published format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.devices.decoders.ganglion import GanglionDecoder, unpack_fields
from emg.devices.decoding import DecodedPacket, make_decoder
from emg.devices.profiles import load_profile
from emg.errors import EmgInputError

ROOT = Path(__file__).resolve().parents[2]
SCALE_UV = 15686 / 8388607


# --- a test-side encoder, written from the documented format ----------------------------------


def pack(packet_id: int, fields: Sequence[int], width: int, byte19: int = 0) -> bytes:
    """A 20-byte packet: the id, then unsigned ``width``-bit fields MSB first across bytes 1..19."""
    bits = 0
    for field in fields:
        assert 0 <= field < 1 << width
        bits = (bits << width) | field
    body = (bits << (8 * 19 - width * len(fields))).to_bytes(19, "big")
    if width == 18:  # 144 bits fill bytes 1..18; byte 19 is the accelerometer's
        body = body[:18] + bytes([byte19])
    return bytes([packet_id]) + body


def fw2_field(delta: int, width: int) -> int:
    """Firmware 2: the delta's sign moved into bit 0, then its low ``width`` bits."""
    signed = (delta & ~1) | (1 if delta < 0 else 0)
    return signed & ((1 << width) - 1)


def fw3_field(sample: int, width: int) -> int:
    """Firmware 3: the sign written into bit ``24 - width``, then the top ``width`` bits."""
    shift = 24 - width
    signed = sample | (1 << shift) if sample < 0 else sample & ~(1 << shift)
    return (signed >> shift) & ((1 << width) - 1)


def raw_packet(values: Sequence[int]) -> bytes:
    """Firmware 2, id 0: four 24-bit big-endian signed values, then the 'A'..'G' padding."""
    return b"\x00" + b"".join(v.to_bytes(3, "big", signed=True) for v in values) + b"ABCDEFG"


def delta_packet(packet_id: int, first: Sequence[int], second: Sequence[int]) -> bytes:
    """Firmware 2 deltas (``previous - current``): 18-bit for ids 1-100, 19-bit for 101-200."""
    width = 18 if packet_id <= 100 else 19
    return pack(packet_id, [fw2_field(d, width) for d in [*first, *second]], width)


def msb_packet(packet_id: int, first: Sequence[int], second: Sequence[int], width: int) -> bytes:
    """Firmware 3: the top ``width`` bits of two samples."""
    return pack(packet_id, [fw3_field(v, width) for v in [*first, *second]], width)


ZERO = (0, 0, 0, 0)


def decoder(firmware: int, scale_uv: float = 1.0) -> GanglionDecoder:
    made = make_decoder("ganglion", {"firmware": firmware}, 4, scale_uv, 200.0)
    assert isinstance(made, GanglionDecoder)
    return made


def counts(packets: list[DecodedPacket]) -> list[list[int]]:
    """The samples of the packets, as integer rows (the decoders run with scale 1.0)."""
    return [[int(v) for v in row] for p in packets for row in p.samples]


def feed(dec: GanglionDecoder, packets: Sequence[bytes]) -> list[DecodedPacket]:
    out: list[DecodedPacket] = []
    for packet in packets:
        out.extend(dec.decode(packet))
    return out


# --- the documentation's worked examples (OpenBCI "Ganglion Data Format", NodeJS tests) --------

DOCUMENTED = [
    # (packet as hex, field width, deltas of sample 1, deltas of sample 2)
    (
        "010000000020002800048000bc00070028c00a0e",
        18,
        [0, 2, 10, 4],
        [131074, 245760, 114698, 49162],
    ),
    # The docs list 19 bytes for this one (byte 19, the accelerometer's, is left out): + "00".
    (
        "01ffff7fffbfffe7fff500014f8e30001ff00100",
        18,
        [-3, -5, -7, -11],
        [-262139, -198429, -262137, -4095],
    ),
    ("65000000000800050000480009f001b000300008", 19, [0, 2, 10, 4], [262148, 507910, 393222, 8]),
    (
        "65ffffbfffeffffcffff58000b3e38e0003ff001",
        19,
        [-3, -5, -7, -11],
        [-262139, -198429, -262137, -4095],
    ),
]


@pytest.mark.parametrize(("packet", "width", "first", "second"), DOCUMENTED)
def test_documented_vectors(packet: str, width: int, first: list[int], second: list[int]) -> None:
    payload = bytes.fromhex(packet)
    assert unpack_fields(payload, width) == first + second
    # -198429 has a clear top bit: the sign is in bit 0, not in the MSB
    assert (
        pack(payload[0], [fw2_field(d, width) for d in first + second], width)[1:19]
        == (payload[1:19])
    )
    dec = decoder(2)
    dec.decode(raw_packet(ZERO))
    (packet_out,) = dec.decode(payload)
    sample1 = [-d for d in first]
    assert counts([packet_out]) == [sample1, [s - d for s, d in zip(sample1, second, strict=True)]]


# --- firmware 2 ------------------------------------------------------------------------------


def test_fw2_reseed_then_18_and_19_bit_deltas() -> None:
    dec = decoder(2)
    (raw,) = dec.decode(raw_packet([1000, -2000, 8388607, -8388608]))
    assert raw.sequence == 0 and raw.lost == 0
    assert counts([raw]) == [[1000, -2000, 8388607, -8388608]]
    # sample = previous - delta; deltas even when positive, odd when negative are sent exactly
    (p101,) = dec.decode(delta_packet(101, [10, -11, 262142, -262143], [-3, 200, -1, 0]))
    assert p101.sequence == 101 and p101.lost == 0
    assert counts([p101]) == [[990, -1989, 8126465, -8126465], [993, -2189, 8126466, -8126465]]
    # the accelerometer switched on: position 2 arrives as an 18-bit packet, id 2, no gap
    (p2,) = dec.decode(delta_packet(2, [-7, 4, 131070, -131071], [0, 0, 0, -1]))
    assert p2.sequence == 2 and p2.lost == 0
    assert counts([p2]) == [[1000, -2193, 7995396, -7995394], [1000, -2193, 7995396, -7995393]]
    assert dec.stats.packets == 3 and dec.stats.samples == 5 and dec.stats.malformed == 0


def test_fw2_loses_the_lowest_bit_of_a_delta() -> None:
    dec = decoder(2)
    dec.decode(raw_packet(ZERO))
    # +5 is sent as 4 (bit 0 cleared for the sign), -4 as -3 (bit 0 set)
    (packet,) = dec.decode(delta_packet(101, [5, -4, 1, -2], ZERO))
    assert counts([packet])[0] == [-4, 3, 0, 1]


def test_a_second_reseed_corrects_the_drift_after_a_lost_packet() -> None:
    dec = decoder(2)
    base = [1000, 2000, 3000, 4000]
    dec.decode(raw_packet(base))
    (p101,) = dec.decode(delta_packet(101, [2] * 4, [2] * 4))
    assert counts([p101]) == [[b - 2 for b in base], [b - 4 for b in base]]
    # packet 102 (deltas -101, -101: true samples base + 97, base + 198) is lost
    (p103,) = dec.decode(delta_packet(103, [-1] * 4, [-1] * 4))
    assert p103.lost == 2
    true_103 = [[b + 199 for b in base], [b + 200 for b in base]]
    decoded_103 = counts([p103])
    assert decoded_103 == [[b - 3 for b in base], [b - 2 for b in base]]
    assert [d - t for d, t in zip(decoded_103[0], true_103[0], strict=True)] == [-202] * 4
    # the next raw packet (positions 4..100 lost too) puts the values right again
    (raw,) = dec.decode(raw_packet([b + 207 for b in base]))
    assert raw.lost == 2 * 97
    assert counts([raw]) == [[b + 207 for b in base]]
    (p101b,) = dec.decode(delta_packet(101, [8] * 4, [-3] * 4))
    assert p101b.lost == 0
    assert counts([p101b]) == [[b + 199 for b in base], [b + 202 for b in base]]


@pytest.mark.parametrize(("first_id", "last_id"), [(101, 200), (1, 100)])
def test_fw2_cycle_wraps_are_not_gaps(first_id: int, last_id: int) -> None:
    dec = decoder(2)
    ids = [0, *range(first_id, last_id + 1), 0, first_id, first_id + 1]
    out = feed(dec, [raw_packet(ZERO) if i == 0 else delta_packet(i, ZERO, ZERO) for i in ids])
    assert [p.lost for p in out] == [0] * len(ids)
    assert [p.sequence for p in out] == ids
    assert dec.stats.samples == 201 + 1 + 4 and dec.stats.lost_samples == 0


@pytest.mark.parametrize(
    ("ids", "lost"),
    [
        ([0, 101, 104], 4),  # 102, 103
        ([0, 5], 8),  # 18-bit 1..4
        ([0, 101, 199, 101], 3),  # 200 (2 samples) and the raw packet 0 (1 sample)
        ([0, 101, 200, 102], 3),  # 0 and 101
        ([0, 101, 150, 0], 100),  # 151..200
        ([0, 101, 101], 199),  # a whole cycle but this packet: 201 - 2
        ([0, 0], 200),  # a whole cycle but the raw packet
        ([0, 101, 2, 103, 4], 0),  # accelerometer on/off mid-cycle: same positions
    ],
)
def test_fw2_gaps_give_the_exact_lost_count(ids: list[int], lost: int) -> None:
    dec = decoder(2)
    out = feed(dec, [raw_packet(ZERO) if i == 0 else delta_packet(i, ZERO, ZERO) for i in ids])
    assert out[-1].lost == lost
    assert dec.stats.lost_samples == sum(p.lost for p in out)


def test_fw2_deltas_before_any_reseed_count_as_lost() -> None:
    dec = decoder(2)
    assert dec.decode(delta_packet(105, [1] * 4, [1] * 4)) == []
    assert dec.decode(delta_packet(106, [1] * 4, [1] * 4)) == []
    assert dec.stats.malformed == 0 and dec.stats.packets == 0
    (raw,) = dec.decode(raw_packet([7, 8, 9, 10]))
    # before 105: 0 (1 sample) + 101..104 (8); 105, 106 undecodable (4); 107..200 missed (188)
    assert raw.lost == 9 + 4 + 188 == 201
    assert counts([raw]) == [[7, 8, 9, 10]]
    assert dec.stats.lost_samples == 201 and dec.stats.malformed == 0


def test_reset_forgets_the_reference_and_the_position() -> None:
    dec = decoder(2)
    feed(dec, [raw_packet(ZERO), delta_packet(101, ZERO, ZERO)])
    dec.reset()
    assert dec.decode(delta_packet(102, ZERO, ZERO)) == []  # no reference any more
    dec.reset()
    (raw,) = dec.decode(raw_packet([1, 2, 3, 4]))
    assert raw.lost == 0  # a new stream starts at position 0
    (p101,) = dec.decode(delta_packet(101, [2] * 4, [-1] * 4))
    assert p101.lost == 0 and counts([p101]) == [[-1, 0, 1, 2], [0, 1, 2, 3]]


# --- firmware 3 ------------------------------------------------------------------------------


def test_fw3_restores_the_most_significant_bits() -> None:
    dec = decoder(3)
    first, second = [1_000_000, -1_000_000, 8_388_607, -8_388_608], [0, -1, 100, -100]
    (p19,) = dec.decode(msb_packet(100, first, second, 19))
    # 19 bits: value << 5; bit 5 carries the sign (cleared when positive, set when negative)
    assert counts([p19]) == [[1_000_000, -999_968, 8_388_544, -8_388_576], [0, -32, 64, -96]]
    assert p19.sequence == 100 and p19.lost == 0
    dec.reset()
    (p18,) = dec.decode(msb_packet(0, first, second, 18))
    # 18 bits: value << 6, the sign in bit 6
    assert counts([p18]) == [[999_936, -1_000_000, 8_388_480, -8_388_544], [0, -64, 0, -64]]


@pytest.mark.parametrize("ids", [[*range(100, 200), 100, 101], [*range(100), 0, 1]])
def test_fw3_cycle_wraps_are_not_gaps(ids: list[int]) -> None:
    dec = decoder(3)
    width = 18 if ids[0] == 0 else 19
    out = feed(dec, [msb_packet(i, ZERO, ZERO, width) for i in ids])
    assert [p.lost for p in out] == [0] * len(ids)
    assert dec.stats.samples == 2 * len(ids)


def test_fw3_released_firmware_extra_packet_is_position_100() -> None:
    dec = decoder(3)
    out = feed(dec, [msb_packet(i, ZERO, ZERO, 19) for i in (198, 199)])
    (p200,) = dec.decode(msb_packet(200, [320, -320, 0, 0], ZERO, 19))
    assert counts([p200])[0] == [320, -288, 0, 0]  # decoded as 19-bit
    out += [p200, *feed(dec, [msb_packet(i, ZERO, ZERO, 19) for i in range(100, 200)])]
    assert out[0].lost == 2 * 98  # the stream started at 100: 100..197 were missed
    assert [p.lost for p in out[1:]] == [0] * 102
    # now that the cycle is known to have 101 positions, a missing 200 is a gap
    (wrapped,) = dec.decode(msb_packet(100, ZERO, ZERO, 19))
    assert wrapped.lost == 2


def test_fw3_released_firmware_18_bit_packet_100() -> None:
    dec = decoder(3)
    out = feed(dec, [msb_packet(i, ZERO, ZERO, 18) for i in (98, 99)])
    (p100,) = dec.decode(msb_packet(100, [640, -640, 0, 0], ZERO, 18))
    assert counts([p100])[0] == [640, -576, 0, 0]  # 18-bit, not 19-bit
    (p0,) = dec.decode(msb_packet(0, ZERO, ZERO, 18))
    assert [p.lost for p in [*out, p100, p0]] == [2 * 98, 0, 0, 0]


@pytest.mark.parametrize(
    ("ids", "lost"),
    [
        ([100, 103], 4),
        ([150, 198, 101], 4),  # 199 and 100
        ([103], 6),  # a stream starts at 100: 100..102 missed
        ([5, 3], 2 * 97),  # 6..99 and 0..2
    ],
)
def test_fw3_gaps_give_the_exact_lost_count(ids: list[int], lost: int) -> None:
    dec = decoder(3)
    out = feed(dec, [msb_packet(i, ZERO, ZERO, 18 if i < 100 else 19) for i in ids])
    assert out[-1].lost == lost


# --- packets that are not samples, malformed packets, units --------------------------------


@pytest.mark.parametrize("firmware", [2, 3])
def test_impedance_and_ascii_packets_are_ignored(firmware: int) -> None:
    dec = decoder(firmware)
    first = raw_packet(ZERO) if firmware == 2 else msb_packet(100, ZERO, ZERO, 19)
    second = delta_packet(101, ZERO, ZERO) if firmware == 2 else msb_packet(101, ZERO, ZERO, 19)
    dec.decode(first)
    assert dec.decode(bytes([206]) + b"OpenBCI Ganglion v3") == []  # message part, mid-stream
    assert dec.decode(bytes([207]) + b".0.1\n$$$") == []
    (after_message,) = dec.decode(second)
    assert after_message.lost == 0  # messages do not interrupt the position tracking
    for packet_id in range(201, 206):
        assert dec.decode(bytes([packet_id]) + b"12345Z") == []
    (restart,) = dec.decode(first)  # streaming restarts at position 0 after impedance testing
    assert restart.lost == 0
    assert dec.stats.malformed == 0 and dec.stats.lost_samples == 0


@pytest.mark.parametrize("firmware", [2, 3])
@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "empty"),
        (bytes([101]) + bytes(18), "19 bytes"),
        (bytes([101]) + bytes(20), "21 bytes"),
        (b"\x00" + bytes(11), "12 bytes"),
        (bytes([208]) + bytes(19), "unknown packet id 208"),
        (bytes([255]) + bytes(19), "unknown packet id 255"),
    ],
)
def test_malformed_packets_are_counted_not_raised(
    firmware: int, payload: bytes, message: str
) -> None:
    dec = decoder(firmware)
    assert dec.decode(payload) == []
    assert dec.stats.malformed == 1 and message in dec.stats.last_error
    assert dec.stats.packets == 0


def test_profile_scale_gives_microvolts() -> None:
    profile = load_profile(ROOT / "firmware_configs" / "ganglion.toml")
    dec = make_decoder("ganglion", {"firmware": 2}, 4, profile.scale_uv, 200.0)
    (raw,) = dec.decode(raw_packet([8388607, -8388607, 1000, 0]))
    assert raw.samples.dtype == np.float32
    np.testing.assert_allclose(raw.samples[0], [15686.0, -15686.0, 1000 * SCALE_UV, 0.0], rtol=1e-6)


def test_profile_loads_with_the_ganglion_decoder(tmp_path: Path) -> None:
    path = ROOT / "firmware_configs" / "ganglion.toml"
    profile = load_profile(path)
    assert profile.name == "ganglion" and profile.channels == 4 and profile.sample_rate == 200
    assert profile.start == (b"b",) and profile.stop == (b"s",)
    assert not profile.write_with_response
    assert profile.notify == ("2d30c082-f39f-4ce6-923f-3484ea480596",)
    assert profile.service == "0000fe84-0000-1000-8000-00805f9b34fb"
    assert profile.scale_uv == pytest.approx(SCALE_UV)
    made = profile.decoder()
    assert isinstance(made, GanglionDecoder) and made.firmware == 3
    text = path.read_text(encoding="utf-8")
    fw2 = tmp_path / "fw2.toml"
    fw2.write_text(text.replace("firmware = 3", "firmware = 2"), encoding="utf-8")
    made2 = load_profile(fw2).decoder()
    assert isinstance(made2, GanglionDecoder) and made2.firmware == 2
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("firmware = 3", "firmware = 4"), encoding="utf-8")
    with pytest.raises(EmgInputError, match="firmware must be 2 or 3") as caught:
        load_profile(bad)
    assert caught.value.field == "decoder"


@pytest.mark.parametrize("params", [{"firmware": True}, {"firmware": "3"}, {"firmware": 3.0}])
def test_firmware_must_be_2_or_3(params: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="firmware must be 2 or 3"):
        make_decoder("ganglion", params, 4, SCALE_UV, 200.0)
    with pytest.raises(ValueError, match="4 channels"):
        make_decoder("ganglion", {}, 8, SCALE_UV, 200.0)


# --- fuzz --------------------------------------------------------------------------------------

PACKETS = st.one_of(
    st.binary(max_size=40),
    st.binary(min_size=20, max_size=20),
    st.tuples(st.integers(0, 207), st.binary(min_size=19, max_size=19)).map(
        lambda t: bytes([t[0]]) + t[1]
    ),
)


@settings(max_examples=100, deadline=None)
@given(firmware=st.sampled_from([2, 3]), packets=st.lists(PACKETS, max_size=30))
def test_fuzz_never_raises(firmware: int, packets: list[bytes]) -> None:
    dec = decoder(firmware, SCALE_UV)
    decoded = 0
    for packet in packets:
        for out in dec.decode(packet):
            decoded += 1
            assert out.samples.shape in ((1, 4), (2, 4)) and out.samples.dtype == np.float32
            assert np.isfinite(out.samples).all() and out.lost >= 0
    assert dec.stats.packets == decoded
    assert dec.stats.malformed <= len(packets)
