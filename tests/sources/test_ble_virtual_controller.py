"""Two processes, as in the field: `emg emulate` gives a virtual Bluetooth controller with two
emulated sensors in range; `emg record --source ble` connects to it as a host would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from emg.analysis.lead import RISE_LOOKBACK_S
from emg.analysis.reps import UNRECORDED_SHARE
from emg.cli import main
from emg.io.open_recording import open_recording

pytest.importorskip("bumble")


#: Seconds recorded. The emulators loop the 29 s demo set from their own start, so where in
#: it the recording begins depends on how long scanning and connecting took (longer on a
#: busy machine); any 18 s of it holds at least 4 reps begun inside it (16 s: only 3, from
#: 15 s in).
RECORD_S = 18
#: Seconds the scan looks for the sensors (a fixed look: it does not stop once they are
#: seen); they advertise every 20 ms from before the emulator says it is emulating.
SCAN_S = 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_record_from_emulated_sensors_through_a_virtual_controller(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emg",
            "emulate",
            "emg-stream-v1",
            "--count",
            "2",
            "--host-transport",
            f"tcp-server:127.0.0.1:{port}",
            "--loss",
            "0.01",
            "--duration",  # a safety net: the test ends it
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert emulator.stdout is not None
        line = emulator.stdout.readline()
        assert "emulating EMG-0001, EMG-0002" in line, (
            emulator.stderr.read() if emulator.stderr else ""
        )
        time.sleep(0.5)
        code = main(
            [
                "record",
                "--source",
                "ble",
                "--radio",
                f"bumble:tcp-client:127.0.0.1:{port}",
                "--sensor",
                "glute=EMG-0001",
                "--sensor",
                "hamstring=EMG-0002",
                "--duration",
                str(RECORD_S),
                "--out",
                str(tmp_path),
                "--scan-timeout",
                str(SCAN_S),
            ]
        )
        out = capsys.readouterr().out
    finally:
        emulator.terminate()
        emulator.communicate(timeout=60)
    assert code == 0, out
    (folder,) = (f for f in tmp_path.iterdir() if f.is_dir())
    meta = json.loads((folder / "session.json").read_text())
    assert meta["source"] == "ble" and meta["status"] == "complete"
    assert [s["profile"] for s in meta["sensors"]] == ["emg-stream-v1"] * 2
    recording = open_recording(folder)
    assert recording.sample_rate == 1000.0 and recording.n_samples == RECORD_S * 1000
    assert [c.label for c in recording.channels] == ["glute", "hamstring"]
    # the demo set's reps, in the right order, with leads within a few ms of the truth
    # (a rep under way when the recording began has no known order: the emulators loop the
    # demo set from their own start, so the recording may begin mid-rep)
    reps = [
        e.data for e in recording.events if e.kind == "rep" and not e.data["under_way_at_start"]
    ]
    assert len(reps) >= 4
    # Only an onset that was received can be timed. The sensors' data is missing (masked)
    # where the emulator did not send it in time: before the second sensor was connected
    # and streaming (connects are serial, and slow on a busy machine), and where the
    # emulating process was held up for longer than the latency bound. A rep whose onset
    # falls in or just after such a stretch, or that the end of the recording cut before
    # both onsets, is not judged; every other rep must be right.
    unseen = [r for r in reps if not onsets_received(r, recording.lost, recording.sample_rate)]
    judged = [r for r in reps if r not in unseen]
    assert len(judged) >= 3, (judged, unseen)
    # the demo set's leads are 80-130 ms either way (glute-first, then hamstring-first)
    assert all(rep["order"] in ("glute-first", "hamstring-first") for rep in judged), [
        (
            r["start_s"],
            r["order"],
            r["glute_onset_s"],
            r["hamstring_onset_s"],
            r["missing"],
            r.get("not_recorded"),
            r.get("under_way_at_start"),
        )
        for r in judged
    ]
    leads = [abs(rep["lead_ms"]) for rep in judged]
    assert 60 <= float(np.median(leads)) <= 160, leads
    assert sum(60 <= lead <= 160 for lead in leads) >= len(leads) - 1, leads
    assert (folder / "bids").is_dir()


#: Masked runs this long are the sensor not sending (not streaming yet, or held up), not a
#: lost packet or two (the recording above loses single 10-sample packets at random).
NOT_SENT_SAMPLES = 30
#: How far before a detected onset the rise it was estimated from may begin.
RISE_S = 0.3


def onsets_received(rep: dict[str, Any], lost: npt.NDArray[np.bool_], fs: float) -> bool:
    """Whether both muscles' onsets of a rep, and the rise before each, were received: no
    stretch the sensor did not send in the rise, and less than the analysis' share of
    :data:`~emg.analysis.reps.UNRECORDED_SHARE` lost over the
    :data:`~emg.analysis.lead.RISE_LOOKBACK_S` before the onset (else the muscle is "not
    recorded" in that rep and its order rightly unknown; a sensor that has just begun to
    stream can lose many single packets there)."""
    for column, muscle in enumerate(("glute", "hamstring")):
        onset = rep[f"{muscle}_onset_s"]
        if onset is None:  # the recording ended before this muscle's onset was confirmed
            return False
        edges = np.diff(np.concatenate(([0], lost[:, column].astype(int), [0])))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = stops - starts >= NOT_SENT_SAMPLES
        sample = round(onset * fs)
        if np.any(long & (starts <= sample) & (stops > sample - round(RISE_S * fs))):
            return False
        before = lost[max(sample - round(RISE_LOOKBACK_S * fs), 0) : sample, column]
        if len(before) and float(before.mean()) >= UNRECORDED_SHARE:
            return False
    return True
