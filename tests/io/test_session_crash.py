"""A real recorder process, killed or interrupted mid-session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from emg.cli import main
from emg.io.open_recording import open_recording
from emg.io.session_format import METADATA_FILE, SAMPLES_FILE


def _start_recorder(parent: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "emg", "record", "--out", str(parent), "--speed", "1", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_samples(parent: Path, seconds: float, process: subprocess.Popen[str]) -> Path:
    """Wait until the recorder has ``seconds`` of 2-channel 2 kHz samples on disk."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for folder in parent.glob("*/"):
            samples = folder / SAMPLES_FILE
            if samples.is_file() and samples.stat().st_size >= seconds * 2000 * 2 * 4:
                return folder
        time.sleep(0.05)
    raise AssertionError("the recorder wrote nothing")


def test_sigkill_loses_at_most_a_second(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    process = _start_recorder(tmp_path, "--no-export")
    folder = _wait_for_samples(tmp_path, 7.0, process)
    time.sleep(0.3)
    process.kill()  # SIGKILL: no chance to finalise
    killed_at = datetime.now().astimezone()
    process.communicate()
    assert process.returncode == -signal.SIGKILL

    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["status"] == "recording"
    recording = open_recording(folder)
    streamed_s = (killed_at - datetime.fromisoformat(meta["started_at"])).total_seconds()
    missing_s = streamed_s - recording.duration_s
    assert recording.duration_s >= 7.0
    assert missing_s <= 1.0, f"{missing_s:.2f} s lost"
    assert recording.metadata["complete"] is False
    assert any(e.kind == "rep" for e in recording.events)

    assert main(["analyze", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["reps"]) >= 1
    assert summary["reps"][0]["order"] == "glute-first"


def test_ctrl_c_finalises_and_exports(tmp_path: Path) -> None:
    process = _start_recorder(tmp_path)
    folder = _wait_for_samples(tmp_path, 4.0, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped (interrupt)" in out
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["status"] == "complete" and meta["stopped_by"] == "interrupt"
    recording = open_recording(folder)
    assert recording.n_samples == meta["n_samples"] >= 4 * 2000
    exported = list((folder / "bids").rglob("*_emg.bdf"))
    assert len(exported) == 1
    back = open_recording(folder / "bids")
    assert back.n_samples == recording.n_samples
