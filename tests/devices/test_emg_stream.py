"""emg-stream v1: test vectors, the C packer compiled on the host, loss accounting, fuzzing."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emg.devices.decoders.emg_stream import (
    CONTROL_UUID,
    DATA_UUID,
    FLAG_CLIPPED,
    FLAG_DISCONTINUITY,
    FLAG_STREAM_START,
    INFO_UUID,
    SERVICE_UUID,
    EmgStreamDecoder,
    Opcode,
    Status,
    command,
    parse_info,
    parse_response,
    samples_per_packet,
)
from emg.devices.decoding import MalformedPacket, make_decoder
from emg.devices.profiles import load_profile

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "firmware_configs" / "emg-stream-v1"
HEADER_FILE = SPEC_DIR / "emg_stream.h"
C_DRIVER = Path(__file__).resolve().parent / "emg_stream_pack.c"
PROFILE = ROOT / "firmware_configs" / "emg-stream-v1.toml"
VECTORS: dict[str, Any] = json.loads((SPEC_DIR / "test_vectors.json").read_text("utf-8"))
SCALE = 3.3e6 / 4096 / 200  # 4.0283203125 uV per count, exact in binary

FAST = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def pack(channels: int, flags: int, sequence: int, timestamp: int, counts: npt.ArrayLike) -> bytes:
    """Reference packer, written from SPEC.md independently of the decoder."""
    array = np.asarray(counts, dtype=np.int64).reshape(-1, channels)
    header = struct.pack("<BBBBHI", 1, channels, array.shape[0], flags, sequence, timestamp)
    return header + array.astype("<i2").tobytes()


def decoder(channels: int = 1, sample_rate: float = 1000.0) -> EmgStreamDecoder:
    made = make_decoder("emg-stream-v1", {}, channels, SCALE, sample_rate)
    assert isinstance(made, EmgStreamDecoder)
    return made


def expect_uv(counts: npt.ArrayLike) -> npt.NDArray[np.float32]:
    return (np.asarray(counts, dtype=np.float64) * SCALE).astype(np.float32)


# ---- the published test vectors ---------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["packets"], ids=lambda v: str(v["name"]))
def test_packet_vectors_decode_exactly(vector: dict[str, Any]) -> None:
    payload = bytes.fromhex(vector["payload_hex"])
    head = vector["header"]
    assert payload == pack(
        head["channels"],
        head["flags"],
        head["sequence"],
        head["timestamp_us"],
        vector["samples_counts"],
    )
    dec = decoder(vector["channels"])
    (packet,) = dec.decode(payload)
    assert packet.samples.dtype == np.float32
    assert packet.samples.shape == (head["samples_per_channel"], head["channels"])
    np.testing.assert_array_equal(packet.samples, expect_uv(vector["samples_counts"]))
    np.testing.assert_array_equal(packet.samples, np.float32(vector["samples_uv"]))
    assert packet.sequence == head["sequence"]
    assert packet.lost == 0
    assert packet.device_time_s == head["timestamp_us"] / 1e6
    assert dec.clipped_packets == int(bool(head["flags"] & FLAG_CLIPPED))


@pytest.mark.parametrize("stream", VECTORS["streams"], ids=lambda s: str(s["name"]))
def test_stream_vectors(stream: dict[str, Any]) -> None:
    dec = decoder(stream["channels"], stream["sample_rate"])
    for step in stream["packets"]:
        malformed = dec.stats.malformed
        packets = dec.decode(bytes.fromhex(step["payload_hex"]))
        if step["outcome"] == "malformed":
            assert packets == []
            assert dec.stats.malformed == malformed + 1
            assert step["error"] in dec.stats.last_error
            continue
        (packet,) = packets
        assert (packet.sequence, packet.lost) == (step["sequence"], step["lost"])
        assert packet.device_time_s == pytest.approx(step["device_time_s"], abs=1e-9)
    assert dec.timing_mismatches == 0 and dec.resyncs == 0


@pytest.mark.parametrize("vector", VECTORS["malformed"], ids=lambda v: str(v["description"]))
def test_malformed_vectors_are_counted_with_a_reason(vector: dict[str, Any]) -> None:
    dec = decoder(vector["channels"])
    assert dec.decode(bytes.fromhex(vector["payload_hex"])) == []
    assert dec.stats.malformed == 1
    assert vector["error"] in dec.stats.last_error
    with pytest.raises(MalformedPacket, match=re.escape(vector["error"])):
        dec._decode(bytes.fromhex(vector["payload_hex"]), None)


def test_info_vector() -> None:
    info = VECTORS["info"]
    parsed = parse_info(bytes.fromhex(info["payload_hex"]))
    fields = dict(info["fields"])
    fields["firmware_version"] = tuple(fields["firmware_version"])
    assert parsed.__dict__ == fields
    fixed = parse_info(bytes.fromhex(info["payload_hex"])[:14])
    assert fixed.firmware_name == "" and fixed.uv_per_count == SCALE


def test_info_rejects_bad_payloads() -> None:
    good = bytes.fromhex(VECTORS["info"]["payload_hex"])
    for bad in (good[:10], good[:-1], good + b"x", good[:15] + b"\xff" * (len(good) - 15)):
        with pytest.raises(MalformedPacket):
            parse_info(bad)


@pytest.mark.parametrize("vector", VECTORS["responses"], ids=lambda v: str(v["meaning"]))
def test_response_vectors(vector: dict[str, Any]) -> None:
    opcode, status, data = parse_response(bytes.fromhex(vector["bytes_hex"]))
    assert (opcode, status, data) == (
        vector["opcode"],
        Status(vector["status"]),
        bytes.fromhex(vector["data_hex"]),
    )


def test_parse_response_rejects_other_payloads() -> None:
    for bad in (b"", b"\xf0\x01", b"\x01\x01\x00", b"\xf0\x01\x99"):
        with pytest.raises(MalformedPacket):
            parse_response(bad)


def test_command_bytes_match_the_vectors() -> None:
    by_hex = {v["bytes_hex"]: v for v in VECTORS["commands"] if v["status"] == 0}
    built = {
        command(Opcode.START),
        command(Opcode.STOP),
        command(Opcode.GET_INFO),
        command(Opcode.IDENTIFY),
        command(Opcode.SET_SAMPLE_RATE, 1000),
        command(Opcode.SET_SAMPLE_RATE, 500),
        command(Opcode.SET_BATCH_LIMIT, 20),
        command(Opcode.SET_BATCH_LIMIT, 0),
    }
    assert {b.hex(" ") for b in built} == set(by_hex)
    with pytest.raises(ValueError):
        command(Opcode.START, 1)
    with pytest.raises(ValueError):
        command(Opcode.SET_BATCH_LIMIT, 256)


def test_mtu_table() -> None:
    for row in VECTORS["mtu"]:
        n = samples_per_packet(row["mtu"], row["channels"])
        assert n == row["samples_per_channel"]
        assert 10 + 2 * row["channels"] * n == row["payload_bytes"] <= row["mtu"] - 3
    assert [samples_per_packet(m, c) for m in (23, 185, 247) for c in (1, 2)] == [
        5,
        2,
        86,
        43,
        117,
        58,
    ]
    assert samples_per_packet(247, 1, limit=20) == 20
    assert samples_per_packet(517, 1) == 252  # the largest ATT MTU
    assert samples_per_packet(600, 1) == 255  # the u8 field caps N
    assert samples_per_packet(12, 1) == 0


def test_spec_shows_the_vectors() -> None:
    spec = " ".join((SPEC_DIR / "SPEC.md").read_text("utf-8").split())
    shown = [v["payload_hex"] for v in VECTORS["packets"]]
    shown += [VECTORS["info"]["payload_hex"]] + [r["bytes_hex"] for r in VECTORS["responses"]]
    for text in shown:
        assert text in spec, text
    for row in VECTORS["mtu"]:
        assert f"{row['samples_per_channel']}, {row['payload_bytes']}" in spec


# ---- the C header, compiled on the host ---------------------------------------------------------


def _compiler() -> str | None:
    return shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


@pytest.fixture(scope="module")
def c_packer(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Sequence[str]], list[str]]:
    """Compile tests/devices/emg_stream_pack.c (strict C99) and return a batch runner."""
    compiler = _compiler()
    if compiler is None:
        pytest.skip("no C compiler (cc, gcc or clang) on PATH to compile emg_stream.h")
    binary = tmp_path_factory.mktemp("emg_stream_c") / "emg_stream_pack"
    flags = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion"]
    subprocess.run(
        [compiler, *flags, "-Werror", "-O1", f"-I{SPEC_DIR}", str(C_DRIVER), "-o", str(binary)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )

    def run(lines: Sequence[str]) -> list[str]:
        done = subprocess.run(
            [str(binary)],
            input="".join(f"{line}\n" for line in lines),
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        out = done.stdout.splitlines()
        assert len(out) == len(lines)
        return out

    return run


def _p_line(channels: int, flags: int, seq: int, ts: int, counts: npt.NDArray[Any]) -> str:
    n = counts.shape[0]
    values = " ".join(str(int(v)) for v in counts.reshape(-1))
    return f"P {channels} {n} {flags} {seq} {ts} {values}"


def _cases() -> list[tuple[int, int, int, int, npt.NDArray[np.int64]]]:
    rng = np.random.default_rng(20240611)
    cases = []
    extremes = np.array([32767, -32768, 0, -1, 1, 2047, -2048], dtype=np.int64)
    for channels in (1, 2):
        for n in (1, 2, 3, 5, 43, 58, 86, 117, 255 // channels):
            for seq, ts in ((0, 0), (65535, 0xFFFFFFFF), (65534, 0xFFFFFFFF - 999), (1234, 5)):
                counts = rng.integers(-32768, 32768, size=(n, channels))
                counts.reshape(-1)[: len(extremes)] = extremes[: counts.size]
                flags = int(rng.choice([0, FLAG_STREAM_START, FLAG_DISCONTINUITY, FLAG_CLIPPED]))
                cases.append((channels, flags, seq, ts, counts))
    return cases


def test_c_packer_matches_python_byte_for_byte(
    c_packer: Callable[[Sequence[str]], list[str]],
) -> None:
    cases = _cases()
    out = c_packer([_p_line(*case) for case in cases])
    for (channels, flags, seq, ts, counts), hex_text in zip(cases, out, strict=True):
        payload = bytes.fromhex(hex_text)
        assert payload == pack(channels, flags, seq, ts, counts)
        (packet,) = decoder(channels).decode(payload)
        np.testing.assert_array_equal(packet.samples, expect_uv(counts))
        assert packet.sequence == seq
        assert packet.lost == 0
        assert packet.device_time_s == ts / 1e6


def test_c_packer_rejects_invalid_headers(
    c_packer: Callable[[Sequence[str]], list[str]],
) -> None:
    assert c_packer(["P 0 1 0 0 0 5", "P 9 1 0 0 0 1 2 3 4 5 6 7 8 9", "P 1 0 0 0 0"]) == [
        "ERR",
        "ERR",
        "ERR",
    ]


@pytest.mark.parametrize("channels,n", [(1, 5), (2, 2), (1, 117), (2, 58)])
def test_c_stream_loss_across_the_wraps(
    c_packer: Callable[[Sequence[str]], list[str]], channels: int, n: int
) -> None:
    """Dropping packets gives lost = dropped x n, across the 16-bit and 32-bit wraps."""
    rng = np.random.default_rng(channels * 1000 + n)
    count = 40
    seq0, ts0 = 65536 - 17, 2**32 - 23 * n * 1000
    blocks = [rng.integers(-2048, 2048, size=(n, channels)) for _ in range(count)]
    lines = [
        _p_line(channels, 0, (seq0 + k) % 65536, (ts0 + k * n * 1000) % 2**32, counts)
        for k, counts in enumerate(blocks)
    ]
    payloads = [bytes.fromhex(h) for h in c_packer(lines)]
    # the sequence wraps at k = 17 and the timestamp at k = 23: drops straddle both
    keep = [0, 1, 2, 5, 6, 15, 18, 19, 20, 27, 39]
    dec = decoder(channels)
    previous = keep[0]
    for k in keep:
        (packet,) = dec.decode(payloads[k])
        np.testing.assert_array_equal(packet.samples, expect_uv(blocks[k]))
        assert packet.sequence == (seq0 + k) % 65536
        assert packet.lost == (0 if k == keep[0] else (k - previous - 1) * n)
        assert packet.device_time_s == pytest.approx((ts0 + k * n * 1000) / 1e6, abs=1e-9)
        previous = k
    assert dec.stats.lost_samples == (keep[-1] - keep[0] + 1 - len(keep)) * n
    assert dec.timing_mismatches == 0 and dec.resyncs == 0


def test_c_info_payload(c_packer: Callable[[Sequence[str]], list[str]]) -> None:
    fields = VECTORS["info"]["fields"]
    line = (
        f"I {fields['channels']} {fields['sample_rate_hz']} {fields['uv_per_count']!r}"
        f" {fields['samples_per_packet']} 1 {fields['adc_bits']}"
        f" {' '.join(map(str, fields['firmware_version']))} {fields['firmware_name']}"
    )
    long_name = "I 2 500 1.5 20 0 12 2 3 4 " + "n" * 40
    (info_hex, long_hex) = c_packer([line, long_name])
    assert bytes.fromhex(info_hex) == bytes.fromhex(VECTORS["info"]["payload_hex"])
    assert parse_info(bytes.fromhex(info_hex)).firmware_name == fields["firmware_name"]
    cut = parse_info(bytes.fromhex(long_hex))
    assert (cut.channels, cut.sample_rate_hz, cut.uv_per_count, cut.streaming) == (
        2,
        500,
        1.5,
        False,
    )
    assert cut.firmware_version == (2, 3, 4) and cut.firmware_name == "n" * 32


def test_c_commands_and_responses(c_packer: Callable[[Sequence[str]], list[str]]) -> None:
    commands = VECTORS["commands"]
    lines = [f"C {v['bytes_hex'].replace(' ', '') or '-'}" for v in commands]
    responses = VECTORS["responses"]
    lines += [
        f"R {r['opcode']} {r['status']} {r['data_hex'].replace(' ', '') or '-'}" for r in responses
    ]
    lines += ["R 3 0 " + "00" * 15]  # 18 bytes: more than the smallest MTU carries
    out = c_packer(lines)
    for vector, text in zip(commands, out[: len(commands)], strict=True):
        status, opcode, rate, limit = map(int, text.split())
        assert (status, opcode) == (vector["status"], vector["opcode"]), vector["meaning"]
        if status == 0:
            assert rate == vector.get("sample_rate_hz", 0)
            assert limit == vector.get("batch_limit", 0)
    for vector, text in zip(responses, out[len(commands) : -1], strict=True):
        assert bytes.fromhex(text) == bytes.fromhex(vector["bytes_hex"])
    assert out[-1] == "ERR"


def test_c_sample_rate_rule(c_packer: Callable[[Sequence[str]], list[str]]) -> None:
    rates = list(range(0, 2101))
    out = c_packer([f"C 05{struct.pack('<H', r).hex()}" for r in rates])
    accepted = [r for r, text in zip(rates, out, strict=True) if text.split()[0] == "0"]
    assert accepted == [100, 125, 160, 200, 250, 320, 400, 500, 625, 800, 1000, 1250, 1600, 2000]


def test_c_mtu_batching(c_packer: Callable[[Sequence[str]], list[str]]) -> None:
    grid = [
        (m, c, lim)
        for m in (0, 12, 13, 14, 15, 23, 100, 185, 247, 517)
        for c in (1, 2, 3, 8)
        for lim in (0, 1, 20)
    ]
    out = c_packer([f"M {m} {c} {lim}" for m, c, lim in grid])
    for (m, c, lim), text in zip(grid, out, strict=True):
        assert int(text) == samples_per_packet(m, c, lim), (m, c, lim)
    assert c_packer(["S 1", "S 2"]) == ["12 14 16", "14 18 22"]


def test_header_is_valid_cpp(tmp_path: Path) -> None:
    compiler = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if compiler is None:
        pytest.skip("no C++ compiler on PATH (the Arduino sketch includes the header as C++)")
    source = tmp_path / "include_check.cpp"
    source.write_text('#include "emg_stream.h"\nint main() { return 0; }\n', "utf-8")
    subprocess.run(
        [
            compiler,
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Wconversion",
            "-Werror",
            "-fsyntax-only",
            f"-I{SPEC_DIR}",
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---- decoder behaviour beyond the vectors ----------------------------------------------------


def test_reset_forgets_the_stream() -> None:
    dec = decoder()
    dec.decode(pack(1, 0, 500, 1000, [0] * 5))
    dec.reset()
    (packet,) = dec.decode(pack(1, 0, 0, 10, [0] * 5))  # a reconnect: sequence 0 again
    assert (packet.lost, packet.device_time_s) == (0, 10e-6)
    assert dec.stats.malformed == 0


def test_full_sequence_wrap_is_resolved_by_the_timestamp() -> None:
    dec = decoder()
    dec.decode(pack(1, 0, 7, 0, [0] * 5))
    # exactly 65536 packets later: same sequence number, the clock says 65535 were lost
    (packet,) = dec.decode(pack(1, 0, 7, 65536 * 5000, [0] * 5))
    assert packet.lost == 65535 * 5
    (packet,) = dec.decode(pack(1, 0, 10, 65536 * 5000 + (65536 + 3) * 5000, [0] * 5))
    assert packet.lost == (65536 + 2) * 5
    assert dec.timing_mismatches == 0


def test_lost_start_packet_of_a_new_stream_resyncs() -> None:
    dec = decoder()
    dec.decode(pack(1, 0, 3000, 1_000_000, [0] * 5))
    # new stream, its packet 0 lost: suspect until its successor confirms it
    assert dec.decode(pack(1, 0, 1, 9_000_000, [0] * 5)) == []
    assert "sequence 1 after 3000 went back" in dec.stats.last_error
    (packet,) = dec.decode(pack(1, 0, 2, 9_005_000, [0] * 5))
    assert (packet.lost, packet.device_time_s) == (5, 9.005)  # the dropped packet 1
    assert dec.resyncs == 1 and dec.suspects == 1
    (packet,) = dec.decode(pack(1, 0, 3, 9_010_000, [0] * 5))
    assert packet.lost == 0


def test_wrong_sample_rate_is_reported_and_the_sequence_trusted() -> None:
    dec = decoder(sample_rate=500.0)  # the device streams at 1000 Hz
    dec.decode(pack(1, 0, 1, 0, [0] * 5))
    assert dec.decode(pack(1, 0, 3, 10_000, [0] * 5)) == []  # suspect
    (packet,) = dec.decode(pack(1, 0, 4, 15_000, [0] * 5))  # follows it: the clock is off
    assert packet.lost == 5 + 5 and dec.timing_mismatches == 1  # sequence 2, and the suspect
    packets = [dec.decode(pack(1, 0, k, (k - 1) * 5000, [0] * 5)) for k in range(5, 40)]
    lost = [p.lost for decoded in packets for p in decoded]
    assert lost == [0] * 35 and dec.stats.malformed == 1
    assert dec.timing_mismatches == 36


def test_one_corrupt_sequence_costs_its_own_packet() -> None:
    dec = decoder()
    for k in range(3):
        dec.decode(pack(1, 0, 100 + k, k * 5000, [0] * 5))
    assert dec.decode(pack(1, 0, 103 ^ 0x4000, 3 * 5000, [0] * 5)) == []
    assert dec.stats.last_error == (
        "suspect: sequence 16487 after 102 says 81920 samples lost, the device clock says 0"
        " lost; dropped (state kept at sequence 102)"
    )
    (packet,) = dec.decode(pack(1, 0, 104, 4 * 5000, [0] * 5))
    assert (packet.lost, packet.sequence, packet.device_time_s) == (5, 104, 0.02)
    (packet,) = dec.decode(pack(1, 0, 105, 5 * 5000, [0] * 5))
    assert packet.lost == 0
    assert (dec.stats.lost_samples, dec.stats.malformed, dec.suspects) == (5, 1, 1)
    assert dec.timing_mismatches == 0 and dec.resyncs == 0


def test_a_corrupt_sequence_that_went_back_is_no_new_stream() -> None:
    dec = decoder()
    dec.decode(pack(1, 0, 500, 0, [0] * 5))
    assert dec.decode(pack(1, 0, 7, 5000, [0] * 5)) == []  # "went back": suspect, not a resync
    (packet,) = dec.decode(pack(1, 0, 503, 15_000, [0] * 5))  # sequence 502 genuinely lost
    assert packet.lost == 10 and dec.resyncs == 0


def test_next_sequence_with_a_corrupt_timestamp_is_suspect() -> None:
    dec = decoder()
    dec.decode(pack(1, 0, 10, 0, [0] * 5))
    assert dec.decode(pack(1, 0, 11, 2_000_000_000, [0] * 5)) == []
    (packet,) = dec.decode(pack(1, 0, 12, 10_000, [0] * 5))  # not "out of order"
    assert (packet.lost, packet.device_time_s) == (5, 0.01)


def test_a_corrupt_reference_packet_is_repaired_by_the_next_two() -> None:
    dec = decoder()
    dec.decode(pack(1, 0, 5, 0, [0] * 5))  # the first packet: its sequence should be 10
    assert dec.decode(pack(1, 0, 13, 15_000, [0] * 5)) == []  # 11 and 12 lost
    (packet,) = dec.decode(pack(1, 0, 14, 20_000, [0] * 5))
    assert packet.lost == 10 + 5  # taken from the clock, plus the dropped packet
    (packet,) = dec.decode(pack(1, 0, 15, 25_000, [0] * 5))
    assert packet.lost == 0 and dec.timing_mismatches == 0


def test_decoder_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="1 to 8 channels"):
        make_decoder("emg-stream-v1", {}, 9, SCALE, 1000.0)
    with pytest.raises(ValueError, match="unknown parameter"):
        make_decoder("emg-stream-v1", {"bits": 12}, 1, SCALE, 1000.0)


# ---- property tests ------------------------------------------------------------------------


@FAST
@given(payloads=st.lists(st.binary(max_size=80), max_size=12), channels=st.sampled_from([1, 2]))
def test_random_bytes_never_raise(payloads: list[bytes], channels: int) -> None:
    dec = decoder(channels)
    returned = 0
    for payload in payloads:
        packets = dec.decode(payload)
        assert len(packets) <= 1
        returned += len(packets)
    assert returned + dec.stats.malformed == len(payloads)
    assert dec.stats.packets == returned


@FAST
@given(
    seq=st.integers(0, 65535),
    ts=st.integers(0, 2**32 - 1),
    flips=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 40),
)
def test_mutated_packets_never_raise(
    seq: int, ts: int, flips: list[tuple[int, int]], cut: int
) -> None:
    dec = decoder()
    good = pack(1, 0, seq, ts, list(range(10)))
    dec.decode(good)
    bad = bytearray(good)
    for index, value in flips:
        bad[index] = value
    packets = dec.decode(bytes(bad[: len(bad) - cut % 3]) if cut < 20 else bytes(bad) + b"\x00")
    assert len(packets) <= 1
    assert dec.stats.packets + dec.stats.malformed == 2


@FAST
@given(
    data=st.data(),
    channels=st.sampled_from([1, 2, 3, 8]),
    n=st.integers(1, 255),
    flags=st.sampled_from([0, FLAG_STREAM_START, FLAG_CLIPPED, 0xF8]),
    seq=st.integers(0, 65535),
    ts=st.integers(0, 2**32 - 1),
)
def test_random_valid_packets_round_trip(
    data: st.DataObject, channels: int, n: int, flags: int, seq: int, ts: int
) -> None:
    counts = np.array(
        data.draw(
            st.lists(st.integers(-32768, 32767), min_size=n * channels, max_size=n * channels)
        )
    ).reshape(n, channels)
    (packet,) = decoder(channels).decode(pack(channels, flags, seq, ts, counts))
    np.testing.assert_array_equal(packet.samples, expect_uv(counts))
    assert (packet.sequence, packet.lost, packet.device_time_s) == (seq, 0, ts / 1e6)


@FAST
@given(
    seq0=st.integers(0, 65535),
    ts0=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    channels=st.sampled_from([1, 2]),
    drops=st.lists(st.integers(0, 40), min_size=1, max_size=25),
)
def test_random_streams_count_dropped_packets(
    seq0: int, ts0: int, n: int, channels: int, drops: list[int]
) -> None:
    dec = decoder(channels)
    k = 0
    for i, dropped in enumerate(drops):
        k += dropped if i else 0
        payload = pack(
            channels, 0, (seq0 + k) % 65536, (ts0 + k * n * 1000) % 2**32, [0] * n * channels
        )
        (packet,) = dec.decode(payload)
        assert packet.lost == (dropped * n if i else 0)
        assert packet.device_time_s == pytest.approx((ts0 + k * n * 1000) / 1e6, abs=1e-9)
        k += 1
    assert dec.stats.lost_samples == sum(drops[1:]) * n
    assert dec.timing_mismatches == 0 and dec.resyncs == 0


@FAST
@given(
    seq0=st.integers(0, 65535),
    ts0=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    drops=st.lists(st.integers(0, 40), min_size=3, max_size=25),
    data=st.data(),
)
def test_one_corrupt_sequence_costs_at_most_its_packet(
    seq0: int, ts0: int, n: int, drops: list[int], data: st.DataObject
) -> None:
    """Genuine losses (also across both wraps) are counted exactly; a corrupt one adds <= n.

    The corrupt packet is neither the first (the reference) nor the last (a loss is only seen
    at the next packet that arrives).
    """
    corrupt = data.draw(st.integers(1, len(drops) - 2), label="corrupt packet")
    dec = decoder()
    k, genuine, kept = 0, 0, 0
    for i, dropped in enumerate(drops):
        k += dropped if i else 0
        genuine += dropped * n if i else 0
        seq = (seq0 + k) % 65536
        if i == corrupt:
            seq = data.draw(st.integers(0, 65535).filter(lambda s, q=seq: s != q), label="bad")
        packets = dec.decode(pack(1, 0, seq, (ts0 + k * n * 1000) % 2**32, [0] * n))
        kept += len(packets)
        k += 1
    lost = dec.stats.lost_samples
    assert lost == genuine + n * dec.stats.malformed
    assert dec.stats.malformed <= 1 and kept == len(drops) - dec.stats.malformed
    assert dec.resyncs == 0


# ---- the profile ---------------------------------------------------------------------------


def test_profile_loads_and_matches_the_spec() -> None:
    profile = load_profile(PROFILE)
    assert isinstance(profile.decoder(), EmgStreamDecoder)
    assert profile.name == "emg-stream-v1"
    assert profile.service == SERVICE_UUID and profile.advertised_services == (SERVICE_UUID,)
    assert profile.notify == (DATA_UUID,) and profile.control == CONTROL_UUID
    assert profile.extra["info"] == INFO_UUID
    # 10-sample (10 ms) packets for a live display, then START
    assert profile.start == (command(Opcode.SET_BATCH_LIMIT, 10), command(Opcode.START))
    assert profile.stop == (command(Opcode.STOP),)
    assert (profile.sample_rate, profile.channels, profile.muscles) == (1000.0, 1, ("emg",))
    assert profile.scale_uv == SCALE == 4125 / 1024 == VECTORS["scale_uv"]
    header = HEADER_FILE.read_text("utf-8")
    for name, uuid in (
        ("SERVICE", SERVICE_UUID),
        ("DATA", DATA_UUID),
        ("CONTROL", CONTROL_UUID),
        ("INFO", INFO_UUID),
    ):
        assert f'#define EMG_STREAM_UUID_{name} "{uuid}"' in header
