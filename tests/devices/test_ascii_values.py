"""ASCII-value decoder (MyoWare 2.0 Wireless Shield stock firmware) and its profile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.devices.decoders.ascii_values import AsciiValuesDecoder
from emg.devices.decoding import Decoder, make_decoder
from emg.devices.profiles import load_profile

ROOT = Path(__file__).resolve().parents[2]
#: MyoWare.cpp: counts * 3.3 / (2^12 - 1) volts, RAW gain 200.
RAW_UV_PER_COUNT = 3.3 / 4095 / 200 * 1e6


def decoder(**params: object) -> Decoder:
    return make_decoder("ascii-values", params, 1, RAW_UV_PER_COUNT, 100.0)


def values(dec: Decoder, payload: bytes) -> list[float]:
    packets = dec.decode(payload)
    for packet in packets:
        assert packet.lost == 0 and packet.sequence is None and packet.device_time_s is None
        assert packet.samples.dtype == np.float32 and packet.samples.shape[1] == 1
    return [float(v) for p in packets for v in p.samples.ravel()]


@pytest.mark.parametrize(
    ("payload", "params", "counts"),
    [
        (b"512", {}, [512.0]),
        (b"512\r\n", {}, [512.0]),
        (b"  512 \n", {}, [512.0]),
        (b"1234.00", {}, [1234.0]),  # Arduino String(double)
        (b"-17.00", {}, [-17.0]),  # RAW - REF is signed
        (b"300,512\n", {"field": 1}, [512.0]),
        (b"300,512\n", {}, [300.0]),
        (b"300;512", {"field": 1, "separator": ";"}, [512.0]),
        (b"2048", {"offset": 2048.0}, [0.0]),
        (b"1\n2\r\n3", {}, [1.0, 2.0, 3.0]),
        (b"42\x00", {}, [42.0]),
    ],
)
def test_values_to_microvolts_exactly(
    payload: bytes, params: dict[str, object], counts: list[float]
) -> None:
    dec = decoder(**params)
    # counts are net of the offset; the decoder computes (value - offset) * scale_uv
    expected = [float(np.float32(c * RAW_UV_PER_COUNT)) for c in counts]
    assert values(dec, payload) == expected
    assert dec.stats.malformed == 0 and dec.stats.samples == len(counts)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\r\n",
        b"abc",
        b"12a",
        b"\xff\xfe",
        b"nan",
        b"inf",
        b"1e999",
        b"0x10",
        b"1_000",
        b"1,2\n",
        b"--1",
        b"1\n\nx",
        b"1\x002",
    ],
)
def test_garbage_is_malformed_and_does_not_raise(payload: bytes) -> None:
    field = 5 if payload == b"1,2\n" else 0
    dec = decoder(field=field)
    assert dec.decode(payload) == []
    assert dec.stats.malformed == 1 and dec.stats.last_error
    good = b"0," * field + b"7"  # the stream goes on
    assert values(dec, good) == [float(np.float32(7 * RAW_UV_PER_COUNT))]


@settings(max_examples=300)
@given(st.binary(max_size=64), st.integers(0, 3))
def test_arbitrary_bytes_never_raise(payload: bytes, field: int) -> None:
    dec = decoder(field=field)
    for sample in values(dec, payload):
        assert np.isfinite(sample)
    dec.reset()


@given(st.lists(st.integers(-4095, 4095), min_size=1, max_size=5))
def test_printed_integers_round_trip(counts: list[int]) -> None:
    dec = decoder()
    payload = "\n".join(f"{c}.00" for c in counts).encode()
    assert values(dec, payload) == [float(np.float32(c * RAW_UV_PER_COUNT)) for c in counts]


@pytest.mark.parametrize(
    ("params", "channels", "message"),
    [
        ({}, 2, "1 channel"),
        ({"field": -1}, 1, "field"),
        ({"field": True}, 1, "field"),
        ({"separator": ""}, 1, "separator"),
        ({"offset": "mid"}, 1, "offset"),
        ({"rate": 3}, 1, "unknown parameter"),
    ],
)
def test_bad_parameters(params: dict[str, object], channels: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_decoder("ascii-values", params, channels, 1.0, 100.0)


def test_profile_loads() -> None:
    profile = load_profile(ROOT / "firmware_configs" / "myoware-shield.toml")
    assert profile.name == "myoware-shield"
    assert isinstance(profile.decoder(), AsciiValuesDecoder)
    assert profile.service == "ec3af789-2154-49f4-a9fc-bc6c88e9e930"
    assert profile.notify == ("f3a56edf-8f1e-4533-93bf-5601b2e91308",)
    assert profile.advertised_services == (profile.service,)
    assert profile.start == () and profile.stop == () and profile.control is None
    assert profile.channels == 1 and profile.scale_uv == pytest.approx(RAW_UV_PER_COUNT)
    assert profile.extra["nominal_sample_rate"] is True
    assert "not EMG" in profile.description or "not an EMG" in profile.description
    assert values(profile.decoder(), b"1234.00") == [float(np.float32(1234 * profile.scale_uv))]
