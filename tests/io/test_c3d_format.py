"""C3D files as motion-capture systems write them (analog channels beside the markers), built
with ezc3d: read like the same data as CSV, named through --channel, refused with one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emg
from emg.errors import EmgInputError
from emg.io.c3d_format import read_c3d
from emg.io.csv_format import write_emg_csv
from emg.recording import Recording
from emg.sources.synthetic import SynthConfig, generate_session

ezc3d = pytest.importorskip("ezc3d")


@pytest.fixture(scope="module")
def session() -> Recording:
    return generate_session(
        SynthConfig(reps=4, seed=3, lead_ms=(90.0, -110.0, 100.0, -120.0))
    ).recording


def _write_c3d(
    path: Path, recording: Recording, labels: tuple[str, ...], units: tuple[str, ...]
) -> Path:
    """A C3D with one marker at 100 Hz and the recording's channels as analogs, in ``units``."""
    scale = {"V": 1e-6, "mV": 1e-3, "uV": 1.0, "N": 1.0}
    c3d = ezc3d.c3d()
    fs = recording.sample_rate
    c3d["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = ("marker",)
    c3d["parameters"]["ANALOG"]["RATE"]["value"] = [fs]
    c3d["parameters"]["ANALOG"]["LABELS"]["value"] = labels
    c3d["parameters"]["ANALOG"]["UNITS"]["value"] = units
    n = recording.n_samples - recording.n_samples % round(fs / 100)  # whole point frames
    analogs = recording.data[:n].astype(np.float64).T * np.array([scale[u] for u in units])[:, None]
    c3d["data"]["points"] = np.ones((4, 1, n // round(fs / 100)))
    c3d["data"]["analogs"] = analogs[None, :, :]
    c3d.write(str(path))
    return path


def test_analogs_read_in_microvolts_and_analysed_like_the_csv(
    session: Recording, tmp_path: Path
) -> None:
    path = _write_c3d(tmp_path / "set.c3d", session, ("glute", "hamstring"), ("V", "mV"))
    back = read_c3d(path)
    assert [c.label for c in back.channels] == ["glute", "hamstring"]
    assert back.sample_rate == session.sample_rate and back.metadata["point_rate"] == 100.0
    n = back.n_samples
    np.testing.assert_allclose(back.data, session.data[:n], rtol=1e-6, atol=1e-3)
    csv = tmp_path / "set.csv"
    write_emg_csv(csv, Recording(session.data[:n], session.sample_rate, session.channels))
    from_c3d, from_csv = emg.analyze(path).reps, emg.analyze(csv).reps
    assert len(from_c3d) == 4
    assert list(from_c3d["order"]) == list(from_csv["order"])
    np.testing.assert_allclose(from_c3d["lead_ms"], from_csv["lead_ms"], atol=0.5)


def test_lab_labels_are_named_with_channel(session: Recording, tmp_path: Path) -> None:
    labels = ("Voltage.EMG1", "Voltage.EMG2")
    path = _write_c3d(tmp_path / "vicon.c3d", session, labels, ("V", "V"))
    with pytest.raises(EmgInputError, match="--channel glute=") as raised:
        read_c3d(path)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)
    back = read_c3d(path, {"glute": "Voltage.EMG2", "hamstring": "Voltage.EMG1"})
    assert [c.label for c in back.channels] == ["glute", "hamstring"]
    np.testing.assert_allclose(back.data[:, 0], session.data[: back.n_samples, 1], atol=1e-3)


def _text_file(path: Path) -> Path:
    path.write_text("time,glute\n0,1\n")
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p, s: _text_file(p), "not a readable C3D file"),
        (
            lambda p, s: _write_c3d(p, s, ("glute", "hamstring"), ("N", "V")),
            "'ANALOG:UNITS glute': unit 'N' is not a voltage",
        ),
    ],
)
def test_bad_files_are_one_line_naming_file_and_field(
    make: object, expected: str, session: Recording, tmp_path: Path
) -> None:
    path = make(tmp_path / "bad.c3d", session)  # type: ignore[operator]
    with pytest.raises(EmgInputError) as raised:
        emg.read(path, {"glute": "glute"} if "UNITS" in expected else None)
    message = str(raised.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message
