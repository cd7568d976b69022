"""Ctrl-C, SIGTERM and SIGHUP finalise a recording as the end of the source does: in
``emg record`` and in the live window (off screen), each in a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emg.io.open_recording import open_recording
from emg.io.session_format import METADATA_FILE, SAMPLES_FILE

#: The reason each signal is kept under (``stopped_by``).
REASONS = {signal.SIGINT: "interrupt", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}
#: Generous bound for a loaded machine: starting Python, Qt and the source, and exporting.
PATIENCE_S = 240.0


def _start(command: str, parent: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "emg", command, "--source", "synthetic", "--out", str(parent),
         "--speed", "1", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip


def _wait_for_samples(parent: Path, process: subprocess.Popen[str], rows: int) -> Path:
    """The session folder, once ``rows`` 2-channel samples are on disk."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for samples in parent.glob(f"*/{SAMPLES_FILE}"):
            if samples.stat().st_size >= rows * 2 * 4:
                return samples.parent
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"no {rows} samples within {PATIENCE_S:g} s: {process.communicate()}")


def _assert_finalised(folder: Path, reason: str) -> None:
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["status"] == "complete" and meta["stopped_by"] == reason
    assert (folder / SAMPLES_FILE).stat().st_size == meta["n_samples"] * 2 * 4
    recording = open_recording(folder)
    assert recording.metadata["complete"] is True
    assert recording.n_samples == meta["n_samples"] >= 2000
    assert len(list((folder / "bids").rglob("*_emg.bdf"))) == 1
    assert open_recording(folder / "bids").n_samples == recording.n_samples
    assert (folder / "truth.json").is_file()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_record_finalises_on_a_signal(tmp_path: Path, number: signal.Signals) -> None:
    process = _start("record", tmp_path)
    folder = _wait_for_samples(tmp_path, process, 2000)
    process.send_signal(number)
    out, err = process.communicate(timeout=PATIENCE_S)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    reason = REASONS[number]
    assert f"stopped ({reason}) after" in out and "exported to" in out
    _assert_finalised(folder, reason)


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_live_window_finalises_on_a_signal(tmp_path: Path, number: signal.Signals) -> None:
    process = _start("live", tmp_path, "--record", "--no-sound")
    folder = _wait_for_samples(tmp_path, process, 2000)
    process.send_signal(number)
    out, err = process.communicate(timeout=PATIENCE_S)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    reason = REASONS[number]
    assert f"stopped ({reason}) after" in out
    assert f"session in {folder}, exported to {folder / 'bids'}" in out
    _assert_finalised(folder, reason)
