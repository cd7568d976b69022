"""The recorder on a disk that fills up, and on metadata JSON cannot hold.

The full disk is simulated: every write of the recorder goes through
``emg.io.session_writer.os_write``, replaced here by one that counts the bytes a write adds to
its file (overwriting bytes a file already has costs nothing, as on a real disk) and, past a
budget, writes what still fits and then fails with ``ENOSPC``.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block
from emg.cli import main
from emg.errors import EmgInputError
from emg.io import session_writer
from emg.io.open_recording import open_recording
from emg.io.session_format import EVENTS_FILE, METADATA_FILE, SAMPLES_FILE
from emg.io.session_writer import RecordingStopped, SessionWriter
from emg.session import LiveSession
from emg.sources.synthetic import DEMO_SET, generate_session

ROW = 2 * 4  # two float32 channels


class FullDisk:
    """A disk with ``budget`` bytes free once the first ``session.json`` is written."""

    def __init__(self, budget: int, metadata_fits: bool = True) -> None:
        self.budget = budget
        self.metadata_fits = metadata_fits
        self.failures = 0

    def write(self, fd: int, data: bytes | memoryview) -> int:
        if self.metadata_fits and os.readlink(f"/proc/self/fd/{fd}").endswith(".json.tmp"):
            self.metadata_fits = False  # the first one only
            return os.write(fd, data)
        size = os.fstat(fd).st_size
        position = size if _appending(fd) else os.lseek(fd, 0, os.SEEK_CUR)
        growth = max(0, position + len(data) - size)
        if growth <= self.budget:
            self.budget -= growth
            return os.write(fd, data)
        fits = len(data) - growth + self.budget
        if fits > 0:
            self.budget = 0
            return os.write(fd, bytes(data[:fits]))
        self.failures += 1
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _appending(fd: int) -> bool:
    import fcntl

    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)


def _fill(monkeypatch: pytest.MonkeyPatch, budget: int, metadata_fits: bool = True) -> FullDisk:
    disk = FullDisk(budget, metadata_fits)
    monkeypatch.setattr(session_writer, "os_write", disk.write)
    return disk


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _record(tmp_path: Path, *extra: str) -> int:
    return main(["record", "--out", str(tmp_path), "--speed", "max", *extra])


def test_disk_full_mid_recording_keeps_every_whole_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # room for about 6 s of samples, not a whole number of rows
    _fill(monkeypatch, 6 * 2000 * ROW + 5)
    assert _record(tmp_path) == 2
    captured = capsys.readouterr()
    line = _one_line(captured.err)
    (folder,) = tmp_path.glob("*-hip-thrust")
    assert line.startswith(f"emg: error: {folder / SAMPLES_FILE}: the disk is full")
    assert "the session is finished (marked cut short)" in line

    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["status"] == "complete"
    assert meta["stopped_by"] == "write failed"
    assert meta["cut_short"].startswith("the disk is full")
    size = (folder / SAMPLES_FILE).stat().st_size
    assert size % ROW == 0 and size // ROW == meta["n_samples"] > 5 * 2000
    assert f"with its {meta['n_samples']} samples" in line
    assert not list(folder.glob("*.tmp")) and not (folder / "bids").exists()

    recording = open_recording(folder)
    assert recording.metadata["complete"] is True
    truth = generate_session(DEMO_SET).recording.data[: meta["n_samples"]]
    np.testing.assert_array_equal(recording.data, truth)  # every sample written, as streamed
    events = (folder / EVENTS_FILE).read_text().splitlines()
    assert len(events) == meta["n_events"] and all(json.loads(e) for e in events)

    # the session is usable: replay says the run was cut short and does not compare it
    assert main(["replay", str(folder), "--speed", "max", "--headless"]) == 0
    replayed = capsys.readouterr().out
    assert "differs" not in replayed and "same reps" not in replayed


def test_final_metadata_fits_in_place_when_no_new_file_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the samples fill the disk exactly: the final session.json cannot be a new file
    disk = _fill(monkeypatch, 2000 * ROW)
    assert _record(tmp_path) == 2
    _one_line(capsys.readouterr().err)
    assert disk.budget == 0
    (folder,) = tmp_path.glob("*-hip-thrust")
    text = (folder / METADATA_FILE).read_text()
    meta = json.loads(text)
    assert meta["status"] == "complete" and "cut_short" in meta
    assert not text.endswith(" \n")  # the reserve was used
    assert open_recording(folder).n_samples == meta["n_samples"]
    assert not (folder / (METADATA_FILE + ".tmp")).exists()


@pytest.mark.parametrize(("budget", "metadata_fits"), [(0, False), (100, False), (3, True)])
def test_disk_full_before_the_first_sample_leaves_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    budget: int,
    metadata_fits: bool,
) -> None:
    # session.json does not fit, or it does but not one sample row
    _fill(monkeypatch, budget, metadata_fits)
    assert _record(tmp_path) == 2
    line = _one_line(capsys.readouterr().err)
    assert "the disk is full" in line and "nothing was recorded" in line
    assert list(tmp_path.iterdir()) == []  # no empty or unreadable session folder


def test_bids_export_on_a_full_disk_is_one_line_and_the_session_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from emg.io import bids_format

    def full_export(recording: object, out: str | Path, **_: object) -> Path:
        (Path(out) / "sub-01" / "emg").mkdir(parents=True)
        (Path(out) / "sub-01" / "emg" / "half.bdf").write_bytes(b"0" * 100)
        raise OSError("Unknown error while calling blockWriteSamples: -1")  # as pyedflib

    monkeypatch.setattr(bids_format, "export_bids", full_export)
    monkeypatch.setattr(session_writer.shutil, "disk_usage", lambda path: _Usage(free=512))
    assert _record(tmp_path, "--duration", "4") == 2
    captured = capsys.readouterr()
    line = _one_line(captured.err)
    (folder,) = tmp_path.glob("*-hip-thrust")
    assert line.startswith(f"emg: error: {folder / 'bids'}: the disk is full (")
    assert "the BIDS export failed and was removed; the session itself is complete" in line
    assert f"emg export {folder} --to bids" in line
    assert not (folder / "bids").exists()
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["status"] == "complete" and meta["stopped_by"] == "duration"
    assert "cut_short" not in meta
    assert open_recording(folder).n_samples == meta["n_samples"] == 8000


class _Usage:
    def __init__(self, free: int) -> None:
        self.total, self.used, self.free = 1 << 30, (1 << 30) - free, free


def test_nan_timestamp_is_refused_naming_the_field_and_leaves_no_file(tmp_path: Path) -> None:
    recording = generate_session(DEMO_SET).recording
    folder = tmp_path / "session"
    live = LiveSession(recording.channels, recording.sample_rate, AnalysisConfig(), folder)
    block = Block(recording.data[:40], recording.sample_rate, float("nan"), 0, recording.channels)
    with pytest.raises(EmgInputError, match=r"session\.json: t0 = nan is not a finite number"):
        live.feed(block)
    assert not tmp_path.joinpath("session").exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_metadata_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(monkeypatch, 10, metadata_fits=False)
    path = tmp_path / "session.json"
    with pytest.raises(OSError, match="No space left"):
        session_writer.write_json_atomic(path, {"a": 1, "b": "x" * 100})
    assert list(tmp_path.iterdir()) == []


def test_event_write_failure_keeps_whole_lines_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = generate_session(DEMO_SET).recording
    writer = SessionWriter(tmp_path / "s", recording.channels, recording.sample_rate)
    block = Block(recording.data[:200], recording.sample_rate, 0.0, 0, recording.channels)
    writer.write_block(block)
    from emg.events import Event

    writer.write_events([Event(0.01, "mark", "set 1")])
    _fill(monkeypatch, 30)  # part of the next line fits
    with pytest.raises(RecordingStopped, match="the session is finished"):
        writer.write_events([Event(0.02, "mark", "set 2 " + "x" * 200)])
    lines = (tmp_path / "s" / EVENTS_FILE).read_bytes()
    assert lines.endswith(b"\n") and len(lines.splitlines()) == 1
    meta = json.loads((tmp_path / "s" / METADATA_FILE).read_text())
    assert meta["n_events"] == 1 and meta["n_samples"] == 200
    assert open_recording(tmp_path / "s").events[0].description == "set 1"


def test_a_write_error_with_its_reason_is_not_taken_for_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that cannot be made where no space is given (/proc: 0 kB free) was called a
    full disk; the free space decides only for an error without its reason (pyedflib's)."""
    usage = session_writer.shutil.disk_usage(tmp_path)._replace(free=0)
    monkeypatch.setattr(session_writer.shutil, "disk_usage", lambda _: usage)
    missing = OSError(errno.ENOENT, "No such file or directory")
    assert session_writer.describe_write_error(missing, tmp_path) == (
        "cannot write (No such file or directory)"
    )
    full = OSError(errno.ENOSPC, "No space left on device")
    assert session_writer.describe_write_error(full, tmp_path).startswith("the disk is full")
    assert session_writer.describe_write_error(OSError("write failed"), tmp_path) == (
        "the disk is full (write failed, 0 kB free)"
    )
