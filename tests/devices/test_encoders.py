"""Packet encoders (emulated sensors): encoded by the encoder, decoded by the profile's decoder.

For every shipped profile a synthetic session goes through the encoder and the profile's
decoder: the samples come back within one quantisation step (exactly what the format carries
where it is lossless), nothing is lost, and dropping whole encode() calls (what the emulator's
loss impairment does) makes the decoder report exactly the samples dropped, wherever the
protocol has a counter. The emg-stream command responses and info are checked against the
SPEC's test vectors.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emg.devices.decoders.bitalino import BitalinoDecoder, frame_crc4, frame_size
from emg.devices.decoders.emg_stream import (
    FLAG_CLIPPED,
    FLAG_STREAM_START,
    HEADER,
    Opcode,
    Status,
    command,
    parse_info,
    parse_response,
)
from emg.devices.decoders.ganglion import unpack_fields
from emg.devices.decoders.myo import EMG_CHARACTERISTICS
from emg.devices.decoding import DECODERS, DecodedPacket, Decoder
from emg.devices.encoders.bitalino import BitalinoEncoder
from emg.devices.encoders.emg_stream import EmgStreamEncoder
from emg.devices.encoders.ganglion import GanglionEncoder
from emg.devices.encoding import ENCODERS, Encoder, Notification, make_encoder
from emg.devices.profiles import SensorProfile, load_profiles
from emg.sources.synthetic import SynthConfig, generate_session

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads(
    (ROOT / "firmware_configs" / "emg-stream-v1" / "test_vectors.json").read_text("utf-8")
)
PROFILES = load_profiles()
FloatArray = npt.NDArray[np.float64]

#: Bitalino EMG span: VCC / G_EMG in µV (datasheet transfer function, profile's gain and vcc).
BITALINO_SPAN_UV = 1e6 * 3.3 / 1009.0


def profile(name: str, **changes: Any) -> SensorProfile:
    """A shipped profile, with fields replaced."""
    return dataclasses.replace(PROFILES[name], **changes)


#: Profiles to round-trip: the shipped ones and variants the shipped ones do not cover.
VARIANTS: dict[str, SensorProfile] = {
    **PROFILES,
    "ganglion-fw2": profile("ganglion", decoder_params={"firmware": 2}),
    "emg-stream-2ch": profile("emg-stream-v1", channels=2, muscles=()),
    "bitalino-a1-a4": profile(
        "bitalino",
        channels=4,
        decoder_params={**PROFILES["bitalino"].decoder_params, "channels_acquired": [1, 2, 3, 4]},
    ),
    "bitalino-a5-a6-6bit": profile(
        "bitalino",
        channels=2,
        decoder_params={
            **PROFILES["bitalino"].decoder_params,
            "channels_acquired": [1, 2, 3, 4, 5, 6],
            "emg_inputs": [5, 6],
            "resolution_bits": 6,
        },
    ),
}


@cache
def synthetic(fs: float) -> FloatArray:
    """Two channels of a short synthetic session (two reps) at ``fs``."""
    data = generate_session(SynthConfig(reps=2, seed=1, fs=fs)).recording.data
    return np.asarray(data, dtype=np.float64)


def signal(prof: SensorProfile, seconds: float = 4.0) -> FloatArray:
    """A synthetic signal for a profile: its channel count, within its range."""
    data = synthetic(max(200.0, prof.sample_rate))
    data = data[: int(seconds * prof.sample_rate)]
    columns = [data[:, c % data.shape[1]] * (1.0 + 0.25 * c) for c in range(prof.channels)]
    out = np.stack(columns, axis=1)
    if prof.decoder_kind == "myo":  # int8 counts: keep the test signal inside -128 .. 127
        out *= 100.0 / np.abs(out).max()
    if prof.decoder_params.get("resolution_bits") == 6:  # 6-bit slots: 51 µV steps
        out *= 1000.0 / np.abs(out).max()
    return out


@dataclasses.dataclass
class Run:
    """One stream through encoder and decoder."""

    calls: list[list[Notification]]
    packets: list[DecodedPacket]
    decoder: Decoder
    kept: list[int]  # indices of the calls whose notifications were delivered

    def samples(self) -> npt.NDArray[np.float32]:
        if not self.packets:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate([p.samples for p in self.packets])


def stream(
    prof: SensorProfile,
    data: FloatArray,
    encoder: Encoder | None = None,
    drop: Callable[[int], bool] = lambda k: False,
    decoder: Decoder | None = None,
    t0_us: int = 0,
) -> Run:
    """Encode ``data`` call by call as the emulator does, deliver all but the dropped calls."""
    encoder = encoder or make_encoder(prof)
    decoder = decoder or prof.decoder()
    n = encoder.samples_per_notification
    encoder.start(t0_us)
    calls, packets, kept = [], [], []
    for k in range(len(data) // n):
        notes = encoder.encode(
            data[k * n : (k + 1) * n], t0_us + round(k * n * 1e6 / prof.sample_rate)
        )
        calls.append(notes)
        if drop(k):
            continue
        kept.append(k)
        for note in notes:
            packets += decoder.decode(note.payload, note.characteristic)
    return Run(calls, packets, decoder, kept)


def decoded_count(prof: SensorProfile, calls: list[list[Notification]]) -> int:
    """Samples the decoder gets from these notifications (a fresh decoder, all delivered)."""
    decoder = prof.decoder()
    return sum(
        p.samples.shape[0]
        for notes in calls
        for note in notes
        for p in decoder.decode(note.payload, note.characteristic)
    )


def expected(prof: SensorProfile, data: FloatArray) -> npt.NDArray[np.float32] | None:
    """What the decoder must return, computed from each format's documentation (None: lossy)."""
    kind, scale = prof.decoder_kind, prof.scale_uv
    if kind == "emg-stream-v1":  # 12-bit ADC counts, raw - 2048
        counts = np.clip(np.round(data / scale), -2048, 2047)
        return counts.astype(np.float32) * np.float32(scale)
    if kind == "myo":
        counts = np.clip(np.round(data / scale), -128, 127)
        return counts.astype(np.float32) * np.float32(scale)
    if kind == "ascii-values":
        counts = np.round(data / scale)
        return (counts * scale).astype(np.float32)
    if kind == "bitalino":
        bits = prof.decoder_params["resolution_bits"]
        adc = np.clip(np.round((data / BITALINO_SPAN_UV + 0.5) * 2**bits), 0, 2**bits - 1)
        decoder = prof.decoder()
        assert isinstance(decoder, BitalinoDecoder)
        return decoder.adc_to_uv(adc).astype(np.float32)
    return None


def step_uv(prof: SensorProfile) -> float:
    """One quantisation step of the format, in µV."""
    if prof.decoder_kind == "bitalino":
        return BITALINO_SPAN_UV / 2 ** prof.decoder_params["resolution_bits"]
    if prof.decoder_kind == "ganglion":  # firmware 3, 19 bits: 2**5 counts and the sign bit
        return 2**6 * prof.scale_uv
    return prof.scale_uv


# --------------------------------------------------------------------------- all encoders


def test_every_decoder_kind_has_an_encoder() -> None:
    assert set(DECODERS) <= set(ENCODERS)
    for prof in PROFILES.values():
        encoder = make_encoder(prof)
        assert encoder.kind == prof.decoder_kind and encoder.samples_per_notification >= 1
    with pytest.raises(KeyError, match="no emulation"):
        make_encoder(profile("myo", decoder_kind="nonsense"))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_round_trip_gives_the_samples_back(name: str) -> None:
    prof = VARIANTS[name]
    data = signal(prof)
    run = stream(prof, data)
    got = run.samples()
    assert run.decoder.stats.lost_samples == 0 and run.decoder.stats.malformed == 0
    sent = len(run.calls) * make_encoder(prof).samples_per_notification
    # firmware 2 holds back the odd sample that waits for its partner
    assert sent - 1 <= len(got) <= sent
    data = data[: len(got)]
    want = expected(prof, data)
    if want is not None:  # lossless for these counts: exactly what the format carries
        np.testing.assert_array_equal(got, want)
        assert np.abs(got - data).max() <= step_uv(prof) / 2 * (1 + 1e-6) + 1e-4
    elif prof.decoder_params.get("firmware") == 2:
        # deltas lose their lowest bit to the sign: the sum drifts by <= 1 count per delta,
        # and the raw packet (sample 0 of each 201) puts it right
        error = np.abs(got / prof.scale_uv - np.round(data / prof.scale_uv))
        position = (np.arange(len(got)) % 201)[:, np.newaxis]
        assert np.all(error <= position + 0.5)
        assert np.all(error[position[:, 0] == 0] <= 0.5)
    else:  # ganglion firmware 3: the top 19 bits with the sign in the lowest
        assert np.abs(got - data).max() < step_uv(prof)


def every_seventh(k: int) -> bool:
    return k % 7 == 6


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_dropped_calls_are_the_lost_samples(name: str) -> None:
    prof = VARIANTS[name]
    data = signal(prof, seconds=2.0)
    run = stream(prof, data, drop=every_seventh)
    total = decoded_count(prof, run.calls)
    received = len(run.samples())
    assert total - received > 0 and run.decoder.stats.malformed == 0
    if prof.decoder_kind == "ascii-values":  # no counter: loss cannot be seen
        assert run.decoder.stats.lost_samples == 0
        return
    assert run.decoder.stats.lost_samples == total - received
    want = expected(prof, data)
    if want is None and prof.decoder_params.get("firmware") == 2:
        return  # values after a gap are offset until the next raw packet
    n = make_encoder(prof).samples_per_notification
    rows = np.concatenate([np.arange(k * n, (k + 1) * n) for k in run.kept])
    if want is not None:
        np.testing.assert_array_equal(run.samples(), want[rows])
    else:
        assert np.abs(run.samples() - data[rows]).max() < step_uv(prof)


@pytest.mark.parametrize("name", ["emg-stream-v1", "ganglion", "ganglion-fw2", "myo", "bitalino"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drops=st.lists(st.booleans(), min_size=40, max_size=40))
def test_any_isolated_drops_are_counted_exactly(name: str, drops: list[bool]) -> None:
    prof = VARIANTS[name]
    # the first and last calls and a second drop in a row are kept: loss shows between packets
    drops = [d and 0 < k < len(drops) - 1 and not drops[k - 1] for k, d in enumerate(drops)]
    n = make_encoder(prof).samples_per_notification
    data = signal(prof, seconds=len(drops) * n / prof.sample_rate)
    assert len(data) == len(drops) * n
    run = stream(prof, data, drop=lambda k: drops[k])
    assert run.decoder.stats.lost_samples == decoded_count(prof, run.calls) - len(run.samples())


# ---------------------------------------------------------------------------- emg-stream


def emg_stream(**kwargs: Any) -> EmgStreamEncoder:
    return EmgStreamEncoder(PROFILES["emg-stream-v1"], **kwargs)


def header(payload: bytes) -> dict[str, int]:
    version, channels, n, flags, sequence, timestamp = HEADER.unpack_from(payload)
    assert version == 1
    return {"channels": channels, "n": n, "flags": flags, "seq": sequence, "t": timestamp}


def test_emg_stream_packets_fill_mtu_247() -> None:
    encoder = emg_stream()
    assert encoder.samples_per_notification == 117
    encoder.start(1_000_000)
    (note,) = encoder.encode(np.zeros((117, 1)), 1_000_000)
    assert note.characteristic == PROFILES["emg-stream-v1"].notify[0]
    assert len(note.payload) == 244
    assert header(note.payload) == {"channels": 1, "n": 117, "flags": 1, "seq": 0, "t": 1_000_000}
    two = EmgStreamEncoder(VARIANTS["emg-stream-2ch"])
    assert two.samples_per_notification == 58
    assert len(two.encode(np.zeros((58, 2)), 0)[0].payload) == 242


@pytest.mark.parametrize("row", VECTORS["mtu"], ids=lambda r: f"mtu{r['mtu']}-{r['channels']}ch")
def test_emg_stream_mtu_table(row: Mapping[str, int]) -> None:
    prof = profile("emg-stream-v1", channels=row["channels"], muscles=())
    encoder = EmgStreamEncoder(prof, mtu=row["mtu"])
    n = encoder.samples_per_notification
    assert n == row["samples_per_channel"]
    (note,) = encoder.encode(np.zeros((n, row["channels"])), 0)
    assert len(note.payload) == row["payload_bytes"]


def test_emg_stream_rejects_what_the_firmware_cannot_send() -> None:
    with pytest.raises(ValueError, match="MTU"):
        emg_stream(mtu=512)
    with pytest.raises(ValueError, match="fit"):
        emg_stream(mtu=23, samples_per_packet=6)
    with pytest.raises(ValueError, match="fits"):
        EmgStreamEncoder(profile("emg-stream-v1", channels=8, muscles=()), mtu=23)
    with pytest.raises(ValueError, match="samples must be"):
        emg_stream().encode(np.zeros((117, 2)), 0)


def test_emg_stream_vector_packet_is_reproduced() -> None:
    vector = VECTORS["packets"][0]  # first-packet-1ch-mtu23
    encoder = emg_stream(mtu=23)
    counts = np.array(vector["samples_counts"], dtype=np.float64)
    encoder.start(0)
    (note,) = encoder.encode(counts * VECTORS["scale_uv"], vector["header"]["timestamp_us"])
    # -2048 is the end of the 12-bit range: the firmware flags the packet clipped
    assert note.payload[3] == FLAG_STREAM_START | FLAG_CLIPPED
    expected_payload = bytearray.fromhex(vector["payload_hex"])
    expected_payload[3] |= FLAG_CLIPPED
    assert note.payload == bytes(expected_payload)


def test_emg_stream_counts_clip_to_the_adc_range() -> None:
    encoder = emg_stream(samples_per_packet=4)
    scale = PROFILES["emg-stream-v1"].scale_uv
    (note,) = encoder.encode(np.array([[1e6], [-1e6], [2046 * scale], [-2047 * scale]]), 0)
    assert np.frombuffer(note.payload[10:], "<i2").tolist() == [2047, -2048, 2046, -2047]
    assert note.payload[3] & FLAG_CLIPPED
    (quiet,) = encoder.encode(np.array([[2046 * scale]] * 4), 4000)
    assert not quiet.payload[3] & FLAG_CLIPPED
    wide = emg_stream(samples_per_packet=2, adc_bits=16)
    (note,) = wide.encode(np.array([[1e6], [-1e6]]), 0)
    assert np.frombuffer(note.payload[10:], "<i2").tolist() == [32767, -32768]


def test_emg_stream_sequence_timestamp_and_wraps() -> None:
    encoder = emg_stream(samples_per_packet=5)
    encoder.start(0)
    encoder._sequence = 65534  # as after 65534 packets
    start = 2**32 - 5000
    notes = [encoder.encode(np.zeros((5, 1)), start + 5000 * k)[0] for k in range(4)]
    assert [header(n.payload)["seq"] for n in notes] == [65534, 65535, 0, 1]
    assert [header(n.payload)["t"] for n in notes] == [2**32 - 5000, 0, 5000, 10000]
    assert [header(n.payload)["flags"] for n in notes] == [1, 0, 0, 0]
    decoder = PROFILES["emg-stream-v1"].decoder()
    out = [p for n in notes for p in decoder.decode(n.payload)]
    assert [p.lost for p in out] == [0, 0, 0, 0] and decoder.timing_mismatches == 0


def test_emg_stream_restart_resets_the_counters() -> None:
    prof = PROFILES["emg-stream-v1"]
    encoder = emg_stream(samples_per_packet=10)
    decoder = prof.decoder()
    encoder.start(0)
    notes = [encoder.encode(np.zeros((10, 1)), 10_000 * k)[0] for k in range(3)]
    encoder.start(500_000)  # START again (e.g. after STOP): sequence 0, stream-start flag
    notes += [encoder.encode(np.zeros((10, 1)), 500_000 + 10_000 * k)[0] for k in range(2)]
    heads = [header(n.payload) for n in notes]
    assert [h["seq"] for h in heads] == [0, 1, 2, 0, 1]
    assert [h["flags"] for h in heads] == [1, 0, 0, 1, 0]
    out = [p for n in notes for p in decoder.decode(n.payload)]
    assert [p.lost for p in out] == [0] * 5
    assert decoder.stats.malformed == 0 and decoder.resyncs == 0


def test_emg_stream_uneven_calls_are_packed_in_whole_packets() -> None:
    encoder = emg_stream(samples_per_packet=4)
    assert encoder.encode(np.zeros((3, 1)), 0) == []
    notes = encoder.encode(np.ones((6, 1)) * 100, 3000)  # 1 ms per sample at 1000 Hz
    assert [header(n.payload)["t"] for n in notes] == [0, 4000]
    assert [header(n.payload)["seq"] for n in notes] == [0, 1]


def test_emg_stream_info_is_the_spec_vector() -> None:
    encoder = emg_stream()
    assert parse_info(encoder.info()).streaming is False
    encoder.start(0)
    assert encoder.info() == bytes.fromhex(VECTORS["info"]["payload_hex"])
    info = parse_info(encoder.info())
    fields = VECTORS["info"]["fields"]
    assert info.samples_per_packet == fields["samples_per_packet"] == 117
    assert info.uv_per_count == fields["uv_per_count"] and info.firmware_name == "emg-stream-esp32"


@pytest.mark.parametrize("vector", VECTORS["commands"], ids=lambda v: v["bytes_hex"] or "empty")
def test_emg_stream_commands_answer_per_spec(vector: Mapping[str, Any]) -> None:
    encoder = emg_stream()  # stopped, as after connecting
    (note,) = encoder.answer(bytes.fromhex(vector["bytes_hex"]))
    assert note.characteristic == PROFILES["emg-stream-v1"].control
    opcode, status, data = parse_response(note.payload)
    assert (opcode, status) == (vector["opcode"], vector["status"])
    if opcode == Opcode.GET_INFO:
        assert data == encoder.info()[:14]
        assert parse_info(data).channels == 1
    else:
        assert data == b""
    assert len(note.payload) <= 17


def test_emg_stream_response_vectors() -> None:
    vectors = {
        v["meaning"].split(":")[0]: bytes.fromhex(v["bytes_hex"]) for v in VECTORS["responses"]
    }
    encoder = emg_stream()
    assert encoder.answer(command(Opcode.START))[0].payload == vectors["START"]
    assert encoder.streaming
    rate = encoder.answer(command(Opcode.SET_SAMPLE_RATE, 1000))[0].payload
    assert rate == vectors["SET_SAMPLE_RATE while streaming"]
    assert encoder.answer(b"\x7f")[0].payload == vectors["unknown op code"]
    assert encoder.answer(command(Opcode.GET_INFO))[0].payload == vectors["GET_INFO"]


def test_emg_stream_settings_apply_to_the_next_stream() -> None:
    encoder = emg_stream()
    encoder.start(0)
    assert parse_response(encoder.answer(command(Opcode.SET_BATCH_LIMIT, 20))[0].payload)[1] == (
        Status.INVALID_STATE
    )
    encoder.answer(command(Opcode.STOP))
    assert not encoder.streaming and parse_info(encoder.info()).streaming is False
    for op, argument in ((Opcode.SET_BATCH_LIMIT, 20), (Opcode.SET_SAMPLE_RATE, 500)):
        assert parse_response(encoder.answer(command(op, argument))[0].payload)[1] == Status.OK
    info = parse_info(encoder.info())
    assert (info.samples_per_packet, info.sample_rate_hz) == (20, 500)
    encoder.answer(command(Opcode.START))
    assert encoder.samples_per_notification == 20
    notes = encoder.encode(np.zeros((40, 1)), 7_000_000)
    assert [len(n.payload) for n in notes] == [50, 50]
    assert [header(n.payload)["t"] for n in notes] == [7_000_000, 7_040_000]  # 2 ms at 500 Hz
    assert header(notes[0].payload)["flags"] == FLAG_STREAM_START
    # START while streaming: OK, no change
    encoder.answer(command(Opcode.START))
    assert header(encoder.encode(np.zeros((20, 1)), 7_080_000)[0].payload)["seq"] == 2


@settings(max_examples=50, deadline=None)
@given(
    channels=st.integers(1, 8),
    data=st.data(),
)
def test_emg_stream_any_counts_round_trip(channels: int, data: st.DataObject) -> None:
    prof = profile("emg-stream-v1", channels=channels, muscles=())
    encoder = EmgStreamEncoder(prof, mtu=data.draw(st.integers(23 + 2 * channels, 247)))
    n = encoder.samples_per_notification
    counts = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(-2048, 2047), min_size=channels, max_size=channels),
                min_size=n,
                max_size=n,
            )
        ),
        dtype=np.float64,
    )
    (note,) = encoder.encode(counts * prof.scale_uv, data.draw(st.integers(0, 2**40)))
    assert len(note.payload) <= 244
    (packet,) = prof.decoder().decode(note.payload)
    np.testing.assert_array_equal(packet.samples / np.float32(prof.scale_uv), counts)


# ------------------------------------------------------------------------------ ganglion


def ganglion_ids(encoder: Encoder, samples: int) -> list[int]:
    encoder.start(0)
    zeros = np.zeros((2, 4))
    return [n.payload[0] for _ in range(samples // 2) for n in encoder.encode(zeros, 0)]


def test_ganglion_packet_id_cycles() -> None:
    fw3 = make_encoder(PROFILES["ganglion"])
    ids = ganglion_ids(fw3, 404)
    assert ids == [*range(100, 200), *range(100, 200), 100, 101]
    fw2 = make_encoder(VARIANTS["ganglion-fw2"])
    ids = ganglion_ids(fw2, 404)
    assert ids == [0, *range(101, 201), 0, *range(101, 201), 0]
    accel = GanglionEncoder(PROFILES["ganglion"], accelerometer=True)
    assert ganglion_ids(accel, 202) == [*range(0, 100), 0]
    extra = GanglionEncoder(PROFILES["ganglion"], extra_packet=True)
    assert ganglion_ids(extra, 206) == [*range(100, 201), 100, 101]
    with pytest.raises(ValueError, match=r"3\.0\.x"):
        GanglionEncoder(VARIANTS["ganglion-fw2"], extra_packet=True)


def test_ganglion_fw2_raw_packet_and_deltas() -> None:
    prof = VARIANTS["ganglion-fw2"]
    encoder = make_encoder(prof)
    encoder.start(0)
    samples = np.array([[1000, -2000, 3, -4], [1001, -2001, 4, -6]], dtype=np.float64)
    (raw,) = encoder.encode(samples * prof.scale_uv, 0)  # the second sample waits
    assert raw.payload == bytes.fromhex("000003e8fff830000003fffffc") + b"ABCDEFG"
    third = np.array([[999, -2001, 4, -6], [0, 0, 0, 0]], dtype=np.float64)
    (deltas,) = encoder.encode(third * prof.scale_uv, 0)
    assert deltas.payload[0] == 101 and len(deltas.payload) == 20
    # previous - current, sign in bit 0: -1 -> 0b..1 = -1; 1 -> 0; -1; 2
    assert unpack_fields(deltas.payload, 19) == [-1, 0, -1, 2, 2, 0, 0, 0]


def test_ganglion_fw3_accelerometer_fields_are_18_bit() -> None:
    prof = PROFILES["ganglion"]
    data = signal(prof, seconds=1.0)
    run = stream(prof, data, encoder=GanglionEncoder(prof, accelerometer=True))
    assert run.decoder.stats.lost_samples == 0
    assert np.abs(run.samples() - data).max() < 2**7 * prof.scale_uv
    assert all(n.payload[19] == 0 for notes in run.calls for n in notes)


def test_ganglion_fw3_extra_packet_is_no_loss() -> None:
    prof = PROFILES["ganglion"]
    run = stream(prof, signal(prof, 3.0), encoder=GanglionEncoder(prof, extra_packet=True))
    assert run.decoder.stats.lost_samples == 0 and len(run.samples()) == 600


def test_ganglion_start_restarts_the_cycle() -> None:
    for prof, first in ((PROFILES["ganglion"], 100), (VARIANTS["ganglion-fw2"], 0)):
        encoder = make_encoder(prof)
        ganglion_ids(encoder, 50)
        assert ganglion_ids(encoder, 4)[0] == first


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(-(2**23), 2**23 - 1), min_size=8, max_size=8),
    st.booleans(),
)
def test_ganglion_fw3_any_counts_within_a_field_step(counts: list[int], accel: bool) -> None:
    prof = PROFILES["ganglion"]
    encoder = GanglionEncoder(prof, accelerometer=accel)
    values = np.array(counts, dtype=np.float64).reshape(2, 4)
    (note,) = encoder.encode(values * prof.scale_uv, 0)
    (packet,) = prof.decoder().decode(note.payload)
    unit = 2 ** (6 if accel else 5)  # the decoder restores field << unit bits
    decoded = np.round(packet.samples.astype(np.float64) / prof.scale_uv / unit) * unit
    assert np.abs(decoded - values).max() < 2 * unit  # the field step and the sign's bit


# ---------------------------------------------------------------------------------- myo


def test_myo_rotates_over_the_four_characteristics() -> None:
    prof = PROFILES["myo"]
    encoder = make_encoder(prof)
    encoder.start(0)
    notes = [n for _ in range(6) for n in encoder.encode(np.zeros((2, 8)), 0)]
    assert [n.characteristic for n in notes] == [*EMG_CHARACTERISTICS, *EMG_CHARACTERISTICS[:2]]
    assert all(len(n.payload) == 16 for n in notes)
    encoder.start(0)  # the rotation goes on: a receiver that kept its state sees no loss
    assert encoder.encode(np.zeros((2, 8)), 0)[0].characteristic == EMG_CHARACTERISTICS[2]


def test_myo_values_are_clipped_int8() -> None:
    encoder = make_encoder(PROFILES["myo"])
    row = [0.4, -0.6, 127.4, 300.0, -128.0, -1000.0, 1.5, -2.5]
    (note,) = encoder.encode(np.array([row, row]), 0)
    assert list(np.frombuffer(note.payload[:8], np.int8)) == [0, -1, 127, 127, -128, -128, 2, -2]


# ------------------------------------------------------------------------------ bitalino


def test_bitalino_notifications_are_unaligned_chunks_of_whole_frames() -> None:
    prof = PROFILES["bitalino"]
    encoder = make_encoder(prof)
    assert encoder.samples_per_notification == 10
    encoder.start(0)
    notes = encoder.encode(np.zeros((10, 1)), 0)
    assert [len(n.payload) for n in notes] == [20, 10]  # 30 bytes of 3-byte frames
    assert len(notes[0].payload) % frame_size(1) != 0
    stream_bytes = b"".join(n.payload for n in notes)
    frames = [stream_bytes[i : i + 3] for i in range(0, 30, 3)]
    assert [f[-1] >> 4 for f in frames] == list(range(10))
    assert all(frame_crc4(f) == f[-1] & 0x0F for f in frames)
    # the sequence counts modulo 16 across calls and restarts with start()
    more = b"".join(n.payload for n in encoder.encode(np.zeros((10, 1)), 0))
    assert [more[i + 2] >> 4 for i in range(0, 30, 3)] == [10, 11, 12, 13, 14, 15, 0, 1, 2, 3]
    encoder.start(0)
    assert encoder.encode(np.zeros((10, 1)), 0)[0].payload[2] >> 4 == 0


def test_bitalino_transfer_function_is_inverted() -> None:
    prof = PROFILES["bitalino"]
    encoder = make_encoder(prof)
    assert isinstance(encoder, BitalinoEncoder)
    uv = np.array([[-1e4], [-BITALINO_SPAN_UV / 2], [0.0], [100.0], [1e4]])
    assert encoder.adc(uv).ravel().tolist() == [0, 0, 512, 543, 1023]
    with pytest.raises(ValueError, match="frames_per_call"):
        BitalinoEncoder(prof, frames_per_call=16)


@settings(max_examples=50, deadline=None)
@given(
    acquired=st.lists(st.integers(1, 6), min_size=1, max_size=6, unique=True).map(sorted),
    data=st.data(),
)
def test_bitalino_any_layout_round_trips(acquired: list[int], data: st.DataObject) -> None:
    bits = 10 if len(acquired) <= 4 or data.draw(st.booleans()) else 6
    slots = [i for i in range(len(acquired)) if (10 if i < 4 else 6) == bits]
    chosen = data.draw(st.lists(st.sampled_from(slots), min_size=1, unique=True))
    params = {
        **PROFILES["bitalino"].decoder_params,
        "channels_acquired": acquired,
        "emg_inputs": [acquired[s] for s in chosen],
        "resolution_bits": bits,
    }
    prof = profile("bitalino", channels=len(chosen), decoder_params=params)
    encoder = BitalinoEncoder(prof, digital=data.draw(st.integers(0, 15)))
    adc = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(0, 2**bits - 1), min_size=len(chosen), max_size=len(chosen)),
                min_size=encoder.samples_per_notification,
                max_size=encoder.samples_per_notification,
            )
        )
    )
    decoder = prof.decoder()
    assert isinstance(decoder, BitalinoDecoder)
    uv = decoder.adc_to_uv(adc)
    notes = encoder.encode(uv, 0) + encoder.encode(uv, 0)  # two calls: the decoder locks on two
    assert all(len(n.payload) <= 20 for n in notes)
    packets = [p for n in notes for p in decoder.decode(n.payload)]
    got = np.concatenate([p.samples for p in packets])
    want = decoder.adc_to_uv(np.concatenate([adc, adc])).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert decoder.stats.malformed == 0 and decoder.stats.lost_samples == 0


# -------------------------------------------------------------------------- ascii values


def test_ascii_values_print_like_arduino_string() -> None:
    prof = PROFILES["myoware-shield"]
    encoder = make_encoder(prof)
    counts = np.array([[1234.0], [-17.0], [-0.2], [0.4], [12.6], [1e9]])
    notes = encoder.encode(counts * prof.scale_uv, 0)
    assert [n.payload for n in notes] == [
        b"1234.00",
        b"-17.00",
        b"0.00",
        b"0.00",
        b"13.00",
        b"4095.00",
    ]
    assert {n.characteristic for n in notes} == {prof.notify[0]}


def test_ascii_values_offset_and_field() -> None:
    params = {"field": 1, "separator": ";", "offset": 2048.0}
    prof = profile("myoware-shield", decoder_params=params)
    encoder = make_encoder(prof)
    (note,) = encoder.encode(np.array([[10 * prof.scale_uv]]), 0)
    assert note.payload == b"0;2058.00"
    (packet,) = prof.decoder().decode(note.payload)
    assert packet.samples[0, 0] == np.float32(10 * prof.scale_uv)


def test_encoders_reject_wrong_shapes() -> None:
    for prof in PROFILES.values():
        encoder = make_encoder(prof)
        with pytest.raises(ValueError, match="samples must be"):
            encoder.encode(np.zeros((2, prof.channels + 1)), 0)


def test_responses_use_a_struct_layout_that_matches_the_spec() -> None:
    # GET_INFO data is the 14-byte fixed part: version, channels, u16 rate, f32 uV, ...
    (note,) = emg_stream().answer(b"\x03")
    version, channels, rate, uv = struct.unpack_from("<BBHf", note.payload, 3)
    assert (version, channels, rate, uv) == (1, 1, 1000, PROFILES["emg-stream-v1"].scale_uv)
