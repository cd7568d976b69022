"""A real recorder process, killed or interrupted mid-session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emg.cli import main
from emg.io.open_recording import open_recording
from emg.io.session_format import METADATA_FILE, SAMPLES_FILE

#: Generous bound for a loaded machine: starting Python and the source, and exporting.
PATIENCE_S = 240.0

#: ``python -m emg``, with each block's end written to a file (argv[1]) as the recorder takes
#: it from the source, before recording it: what a kill can lose is what was taken and is not
#: on disk. (Against the wall clock, a recorder that a busy machine holds up would seem to
#: lose the stream it has not yet taken.)
NOTING_RECORDER = """
import sys
from emg.cli import main
from emg.session import LiveSession

taken = open(sys.argv[1], "a", buffering=1)  # a line is a write: a kill cannot hold it back
feed = LiveSession.feed


def noted(self, block):
    taken.write(f"{block.stop}\\n")
    return feed(self, block)


LiveSession.feed = noted
sys.exit(main(sys.argv[2:]))
"""


def _start_recorder(parent: Path, *extra: str, taken: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    emg = ["-m", "emg"] if taken is None else ["-c", NOTING_RECORDER, str(taken)]
    return subprocess.Popen(
        [sys.executable, *emg, "record", "--out", str(parent), "--speed", "1", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_samples(parent: Path, seconds: float, process: subprocess.Popen[str]) -> Path:
    """Wait until the recorder has ``seconds`` of 2-channel 2 kHz samples on disk."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for folder in parent.glob("*/"):
            samples = folder / SAMPLES_FILE
            if samples.is_file() and samples.stat().st_size >= seconds * 2000 * 2 * 4:
                return folder
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the recorder wrote nothing within {PATIENCE_S:g} s")


def test_sigkill_loses_at_most_a_second(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken.txt"
    process = _start_recorder(tmp_path / "rec", "--no-export", taken=taken)
    folder = _wait_for_samples(tmp_path / "rec", 7.0, process)
    time.sleep(0.3)
    process.kill()  # SIGKILL: no chance to finalise
    process.communicate()
    assert process.returncode == -signal.SIGKILL

    meta = json.loads((folder / METADATA_FILE).read_text())
    assert meta["status"] == "recording"
    recording = open_recording(folder)
    taken_samples = int(taken.read_text().split()[-1])
    missing_s = (taken_samples - recording.n_samples) / recording.sample_rate
    assert recording.duration_s >= 7.0
    assert 0.0 <= missing_s <= 1.0, f"{missing_s:.2f} s lost"
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
    out, err = process.communicate(timeout=PATIENCE_S)
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
