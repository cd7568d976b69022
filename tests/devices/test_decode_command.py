"""``emg decode``: a capture with bad lines is decoded, its bad lines skipped and named."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from emg.cli import main


def packet(sequence: int, timestamp: int, counts: list[int]) -> str:
    """An emg-stream v1 packet of one channel, as a hex capture line."""
    header = struct.pack("<BBBBHI", 1, 1, len(counts), 0, sequence, timestamp)
    return (header + struct.pack(f"<{len(counts)}h", *counts)).hex(" ")


def test_a_non_hex_line_is_skipped_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "capture.txt"
    capture.write_text(
        "\n".join(
            [
                "# field capture",
                packet(0, 0, [1, 2, 3, 4, 5]),
                "zz not a packet",
                packet(1, 5000, [6, 7, 8, 9, 10]),
                "01 01 0",  # odd number of hex digits
                packet(3, 15000, [11, 12, 13, 14, 15]),
            ]
        )
        + "\n"
    )
    out = tmp_path / "out.csv"
    assert main(["decode", "emg-stream-v1", str(capture), "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"emg decode: {capture}, line 3: skipped a line that is not hex ('zz not a packet')",
        f"emg decode: {capture}, line 5: skipped a line that is not hex ('01 01 0')",
        "emg decode: 3 packets, 15 samples per channel, 5 lost, 0 malformed, 2 not hex",
    ]
    rows = out.read_text().splitlines()
    assert rows[0].endswith(",lost") and len(rows) == 1 + 20
    assert rows[1] == "0,4.0283,0"
    lost = [row for row in rows[1:] if row.endswith(",1")]
    assert [row.split(",")[0] for row in lost] == ["10", "11", "12", "13", "14"]


def test_a_malformed_packet_is_skipped_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "capture.txt"
    capture.write_text(f"{packet(0, 0, [1])}\n02 01 01 00\n{packet(1, 1000, [2])}\n")
    assert main(["decode", "emg-stream-v1", str(capture)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"emg decode: {capture}, line 2: skipped a malformed packet (4 bytes, shorter than the"
        " 10-byte header)",
        "emg decode: 2 packets, 2 samples per channel, 0 lost, 1 malformed, 0 not hex",
    ]
    assert captured.out.splitlines()[1:] == ["0,4.0283,0", "1,8.0566,0"]


def test_a_capture_with_no_packet_to_decode_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    capture = tmp_path / "capture.txt"
    capture.write_text("02 01 01 00\nzz\n")
    assert main(["decode", "emg-stream-v1", str(capture)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"emg: error: {capture}: no packet in it could be decoded as emg-stream-v1"
    assert err[0].startswith(f"emg decode: {capture}, line 1: skipped a malformed packet")
    # each bad packet said once, with its file and line: not again by the decoder's log
    assert not [r for r in caplog.records if "malformed" in r.getMessage()]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope", "{capture}"], "emg: error: command line: no profile 'nope' (profiles: "),
        (["emg-stream-v1", "{missing}"], "emg: error: {missing}: no such capture file"),
        (
            ["emg-stream-v1", "{capture}", "--out", "{missing}/x.csv"],
            "emg: error: {missing}/x.csv: cannot write the --out file: No such file or directory",
        ),
    ],
)
def test_bad_arguments_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    capture = tmp_path / "capture.txt"
    capture.write_text(packet(0, 0, [1]) + "\n")
    names = {"capture": str(capture), "missing": str(tmp_path / "missing")}
    assert main(["decode", *(a.format(**names) for a in argv)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(message.format(**names))


def test_an_existing_out_file_is_kept_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "capture.txt"
    capture.write_text(f"{packet(0, 0, [1, 2])}\n")
    out = tmp_path / "recording.csv"  # another recording, named by mistake
    out.write_text("time,glute\n0,1\n")
    assert main(["decode", "emg-stream-v1", str(capture), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"emg: error: {out}: exists already: pass --overwrite to replace it, or name another output"
    ]
    assert out.read_text() == "time,glute\n0,1\n"
    args = ["decode", "emg-stream-v1", str(capture), "--out", str(out), "--overwrite"]
    assert main(args) == 0
    assert out.read_text().splitlines()[1:] == ["0,4.0283,0", "1,8.0566,0"]
