"""Myo armband decoder: two int8 samples per notification, loss from the characteristic rotation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.devices.decoders.myo import EMG_CHARACTERISTICS, MyoDecoder, rotation_index
from emg.devices.decoding import make_decoder
from emg.devices.profiles import load_profile

ROOT = Path(__file__).resolve().parents[2]
# myohw.h: EmgData0..3Characteristic = 0x0105 .. 0x0405 on the base d506xxxx-a904-deb9-4748-...
CHARS = [
    f"d506{short:04x}-a904-deb9-4748-2c7f4a124842" for short in (0x0105, 0x0205, 0x0305, 0x0405)
]


def notification(first: Sequence[int], second: Sequence[int]) -> bytes:
    """myohw_emg_data_t: int8_t sample1[8], then int8_t sample2[8]."""
    return bytes(v & 0xFF for v in [*first, *second])


def decoder() -> MyoDecoder:
    made = make_decoder("myo", {}, 8, 1.0, 200.0)
    assert isinstance(made, MyoDecoder)
    return made


QUIET = notification([0] * 8, [0] * 8)


def test_two_int8_samples_in_sensor_order() -> None:
    first = [0, 1, -1, 127, -128, 42, -42, 5]
    second = [-5, 6, -7, 8, -9, 100, -100, 0]
    payload = notification(first, second)
    assert payload[:8].hex() == "0001ff7f802ad605"
    (packet,) = decoder().decode(payload, CHARS[0])
    assert packet.samples.dtype == np.float32 and packet.samples.shape == (2, 8)
    assert packet.samples.tolist() == [first, second]
    assert packet.sequence == 0 and packet.lost == 0


def test_scale_multiplies_the_counts() -> None:
    dec = make_decoder("myo", {}, 8, 0.5, 200.0)
    (packet,) = dec.decode(notification([-128] + [2] * 7, [127] * 8), CHARS[2])
    assert packet.samples[0, :2].tolist() == [-64.0, 1.0] and packet.samples[1, 0] == 63.5


def test_full_rotation_loses_nothing() -> None:
    dec = decoder()
    order = [0, 1, 2, 3, 0, 1, 2, 3, 0]
    out = [p for i in order for p in dec.decode(QUIET, CHARS[i])]
    assert [p.lost for p in out] == [0] * len(order)
    assert [p.sequence for p in out] == order
    assert dec.stats.samples == 2 * len(order) and dec.stats.lost_samples == 0


@pytest.mark.parametrize(
    ("previous", "current", "lost"),
    [
        (0, 2, 2),  # characteristic 1 skipped
        (1, 0, 4),  # 2 and 3 skipped
        (0, 3, 4),
        (3, 2, 4),  # 0 and 1 skipped
        (2, 2, 6),  # the same characteristic again: the other three skipped
        (3, 0, 0),  # the rotation wraps
    ],
)
def test_a_skipped_characteristic_is_two_lost_samples(
    previous: int, current: int, lost: int
) -> None:
    dec = decoder()
    dec.decode(QUIET, CHARS[previous])
    (packet,) = dec.decode(QUIET, CHARS[current])
    assert packet.lost == lost and dec.stats.lost_samples == lost


def test_uuid_case_and_spaces_do_not_matter() -> None:
    dec = decoder()
    dec.decode(QUIET, CHARS[0].upper())
    (packet,) = dec.decode(QUIET, f"  {CHARS[1].upper()} ")
    assert packet.lost == 0 and packet.sequence == 1
    assert rotation_index("D5060405-A904-DEB9-4748-2C7F4A124842") == 3
    assert tuple(CHARS) == EMG_CHARACTERISTICS


def test_without_a_characteristic_the_rotation_starts_afresh() -> None:
    dec = decoder()
    dec.decode(QUIET, CHARS[0])
    (unknown,) = dec.decode(QUIET, None)
    assert unknown.lost == 0 and unknown.sequence is None
    (after,) = dec.decode(QUIET, CHARS[3])
    assert after.lost == 0


def test_reset_forgets_the_rotation() -> None:
    dec = decoder()
    dec.decode(QUIET, CHARS[0])
    dec.reset()
    (packet,) = dec.decode(QUIET, CHARS[2])
    assert packet.lost == 0


@pytest.mark.parametrize(
    ("payload", "characteristic", "message"),
    [
        (bytes(15), CHARS[0], "15 bytes"),
        (bytes(17), CHARS[0], "17 bytes"),
        (b"", CHARS[0], "0 bytes"),
        (bytes(20), "d5060402-a904-deb9-4748-2c7f4a124842", "20 bytes"),  # IMU data
        (bytes(16), "d5060402-a904-deb9-4748-2c7f4a124842", "not a Myo EMG characteristic"),
        (bytes(16), "00002a19-0000-1000-8000-00805f9b34fb", "not a Myo EMG characteristic"),
    ],
)
def test_malformed_notifications_are_counted_not_raised(
    payload: bytes, characteristic: str, message: str
) -> None:
    dec = decoder()
    assert dec.decode(payload, characteristic) == []
    assert dec.stats.malformed == 1 and message in dec.stats.last_error
    (packet,) = dec.decode(QUIET, CHARS[1])
    assert packet.lost == 0


def test_profile_loads_with_the_myo_decoder() -> None:
    profile = load_profile(ROOT / "firmware_configs" / "myo.toml")
    assert profile.name == "myo" and profile.channels == 8 and profile.sample_rate == 200
    assert profile.notify == tuple(CHARS)
    assert profile.control == "d5060401-a904-deb9-4748-2c7f4a124842"
    assert profile.service == "d5060005-a904-deb9-4748-2c7f4a124842"
    assert profile.advertised_services == ("d5060001-a904-deb9-4748-2c7f4a124842",)
    # set_mode(emg raw, imu none, classifier off), never sleep; then emg none, normal sleep
    assert profile.start == (bytes([1, 3, 3, 0, 0]), bytes([9, 1, 1]))
    assert profile.stop == (bytes([1, 3, 0, 0, 0]), bytes([9, 1, 0]))
    assert profile.scale_uv == 1.0 and "not microvolts" in profile.extra["units"]
    assert isinstance(profile.decoder(), MyoDecoder)
    with pytest.raises(ValueError, match="8 EMG channels"):
        make_decoder("myo", {}, 4, 1.0, 200.0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.binary(max_size=24), st.binary(min_size=16, max_size=16)),
            st.one_of(
                st.none(),
                st.sampled_from(CHARS),
                st.sampled_from([c.upper() for c in CHARS]),
                st.text(max_size=40),
            ),
        ),
        max_size=30,
    )
)
def test_fuzz_never_raises(notifications: list[tuple[bytes, str | None]]) -> None:
    dec = decoder()
    decoded = 0
    for payload, characteristic in notifications:
        for packet in dec.decode(payload, characteristic):
            decoded += 1
            assert packet.samples.shape == (2, 8) and packet.lost in (0, 2, 4, 6)
            assert np.all(np.abs(packet.samples) <= 128)
    assert dec.stats.packets == decoded
    assert dec.stats.packets + dec.stats.malformed == len(notifications)
