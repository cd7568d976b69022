"""PLUX OpenSignals text files, built as the format documents them: raw counts through the EMG
transfer function, read like the same data as CSV, refused with one line naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import emg
from emg.errors import EmgInputError
from emg.io.csv_format import write_emg_csv
from emg.io.open_recording import recording_format
from emg.io.opensignals_format import read_opensignals
from emg.recording import Recording
from emg.sources.synthetic import SynthConfig, generate_session

BITS = 16  # biosignalsplux
VCC, GAIN = 3.0, 1000.0


@pytest.fixture(scope="module")
def session() -> Recording:
    config = SynthConfig(reps=4, seed=5, fs=1000.0, lead_ms=(100.0, -100.0, 90.0, -120.0))
    return generate_session(config).recording


def _header(**changes: object) -> dict[str, object]:
    header: dict[str, object] = {
        "device": "biosignalsplux",
        "device name": "00:07:80:4D:2E:76",
        "sampling rate": 1000,
        "column": ["nSeq", "DI", "CH1", "CH2", "CH3"],
        "label": ["CH1", "CH2", "CH3"],
        "sensor": ["EMG", "EMG", "ACC"],
        "resolution": [16, 1, BITS, BITS, BITS],
        "date": "2026-3-14",
        "time": "10:51:26.873",
    }
    header.update(changes)
    return header


def _write(path: Path, recording: Recording, header: dict[str, object] | None = None) -> Path:
    """The recording's glute and hamstring as CH1 and CH2 (counts), an accelerometer on CH3."""
    counts = np.round((recording.data.astype(np.float64) * 1e-6 * GAIN / VCC + 0.5) * 2**BITS)
    n = recording.n_samples
    table = np.column_stack([np.arange(n) % 16, np.zeros(n), counts, np.full(n, 32768)])
    devices = {"00:07:80:4D:2E:76": header or _header()}
    rows = "\n".join("\t".join(str(int(v)) for v in row) for row in table)
    path.write_text(
        f"# OpenSignals Text File Format\n# {json.dumps(devices)}\n# EndOfHeader\n{rows}\n",
        encoding="utf-8",
    )
    return path


def test_counts_become_microvolts_and_the_reps_those_of_the_csv(
    session: Recording, tmp_path: Path
) -> None:
    path = _write(tmp_path / "opensignals_00078.txt", session)
    assert recording_format(path) == "opensignals"
    with pytest.raises(EmgInputError, match="--channel glute="):
        read_opensignals(path)  # CH1, CH2: not muscle names
    channels = {"glute": "CH1", "hamstring": "CH2"}
    back = read_opensignals(path, channels)
    assert back.sample_rate == 1000.0 and back.metadata["device"] == "biosignalsplux"
    assert back.metadata["started_at"] == "2026-3-14T10:51:26.873"
    step = VCC / GAIN / 2**BITS * 1e6  # µV per count
    assert np.abs(back.data - session.data).max() <= step / 2 * 1.001
    csv = tmp_path / "set.csv"
    write_emg_csv(csv, session)
    from_txt, from_csv = emg.analyze(path, channels=channels).reps, emg.analyze(csv).reps
    assert len(from_txt) == 4
    assert list(from_txt["order"]) == list(from_csv["order"])
    np.testing.assert_allclose(from_txt["lead_ms"], from_csv["lead_ms"], atol=1.0)


def test_a_plain_text_recording_is_still_csv(tmp_path: Path) -> None:
    path = tmp_path / "set.txt"
    path.write_text("time,glute\n0,1\n", encoding="utf-8")
    assert recording_format(path) == "csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# OpenSignals Text File Format\n# {}\n1\t2\n", "no '# EndOfHeader' line"),
        ("# OpenSignals Text File Format\n# {oops\n# EndOfHeader\n", "line 2: the header is not"),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header(), "b": _header()})
            + "\n# EndOfHeader\n",
            "2 devices in one file",
        ),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header(**{"sampling rate": 0})})
            + "\n# EndOfHeader\n0\t0\t1\t2\t3\n",
            "'sampling rate': must be a positive number",
        ),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header()})
            + "\n# EndOfHeader\n0\t0\t1\t2\t3\n1\t0\t1\t2\n",
            "line 5: 4 values, the header's column list has 5",
        ),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header()})
            + "\n# EndOfHeader\n0\t0\t1\t2\t3\n1\t0\tx\t2\t3\n",
            "line 5: 'x' is not a number",
        ),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header(device="cyton")})
            + "\n# EndOfHeader\n0\t0\t1\t2\t3\n",
            "no EMG transfer function for device 'cyton'",
        ),
        (  # a count a 16-bit ADC cannot give (it wrecked the channel's analysis before)
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header()})
            + "\n# EndOfHeader\n0\t0\t1\t2\t3\n1\t0\t1\t99999999\t3\n",
            "line 5, column 'CH2': count 1e+08 is not one a 16-bit ADC gives (whole numbers 0 "
            "to 65535)",
        ),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header()})
            + "\n# EndOfHeader\n0\t0\t-1\t2\t3\n",
            "line 4, column 'CH1': count -1 is not one",
        ),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header()})
            + "\n# EndOfHeader\n0\t0\t1.5\t2\t3\n",
            "count 1.5 is not one",
        ),
        (
            "# OpenSignals Text File Format\n# "
            + json.dumps({"a": _header(resolution=[16, 1, 1e6, BITS, BITS])})
            + "\n# EndOfHeader\n0\t0\t1\t2\t3\n",
            "'resolution': channel CH1's resolution 1e+06 is not a whole number of bits",
        ),
    ],
)
def test_bad_files_are_one_line_naming_file_and_field(
    text: str, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EmgInputError) as raised:
        emg.read(path, {"glute": "CH1", "hamstring": "CH2"})
    message = str(raised.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message
