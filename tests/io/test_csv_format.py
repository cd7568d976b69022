from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from emg.errors import EmgInputError
from emg.io.csv_format import read_emg_csv, write_emg_csv
from emg.sources.synthetic import SynthConfig, generate_session


def test_round_trip_with_loss(tmp_path: Path) -> None:
    session = generate_session(SynthConfig(reps=2, seed=1, loss=0.05, sides=True, fs=1500))
    path = tmp_path / "set.csv"
    write_emg_csv(path, session.recording)
    back = read_emg_csv(path)
    assert back.sample_rate == 1500
    assert [c.label for c in back.channels] == [c.label for c in session.recording.channels]
    np.testing.assert_allclose(back.data, session.recording.data, atol=5e-4)
    np.testing.assert_array_equal(back.lost, session.recording.lost)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message", "line", "field"),
    [
        ("t,glute\n0,1\n0.001,2\n", "no 'time' column", None, "time"),
        ("time,glute\n0,1\n0.001,2\n0.0005,3\n", "time does not increase", 4, "time"),
        ("time,glute\n0,1\n0.001,2\n0.002,3\n0.004,3\n0.005,1\n", "irregular time", 5, "time"),
        ("time,glute\n0,1\n0.001,nan\n0.002,3\n", "missing", 3, "glute"),
        ("time,glute\n0,1\n0.001,inf\n0.002,3\n", "infinite", 3, "glute"),
        ("time,glute\n0,1\n0.001,abc\n0.002,3\n", "'abc' is not a number", 3, "glute"),
        # any other value made every sample lost, without a word
        (
            "time,glute,glute_lost\n0,1,0\n0.001,2,0.5\n0.002,3,0\n",
            "0.5: a loss column holds 1 where a sample was lost and 0 elsewhere",
            3,
            "glute_lost",
        ),
        (
            "time,glutes,hamstrung\n0,1,1\n0.001,2,2\n",
            "unknown muscle 'hamstrung'",
            None,
            "hamstrung",
        ),
        ("time,glute,glutes\n0,1,1\n0.001,2,2\n", "are all 'glute'", None, None),
        ("time,glute\n0,1\n", "fewer than two samples", None, None),
        ("", "empty", None, None),
    ],
)
def test_bad_input_names_file_line_and_column(
    tmp_path: Path, text: str, message: str, line: int | None, field: str | None
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(EmgInputError, match=message) as caught:
        read_emg_csv(path)
    assert caught.value.source == str(path)
    assert caught.value.line == line
    assert caught.value.field == field
    assert str(path) in str(caught.value)


def test_a_row_with_an_extra_cell_is_one_line() -> None:
    # pandas' tokenizer message ends in a line break
    text = "time,glute\n0,1\n0.001,2,7\n0.002,3\n"
    with pytest.raises(EmgInputError, match="Expected 2 fields in line 3, saw 3") as caught:
        read_emg_csv(io.StringIO(text))
    assert "\n" not in str(caught.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(EmgInputError, match="no such file"):
        read_emg_csv(tmp_path / "nope.csv")
    with pytest.raises(EmgInputError, match="directory"):
        read_emg_csv(tmp_path)


def test_the_sidecar_carries_the_analysis_settings(tmp_path: Path) -> None:
    import json

    from emg.analysis.pipeline import AnalysisConfig
    from emg.analysis.settings import recorded_settings, settings_to_dict
    from emg.dsp.chain import ChainConfig
    from emg.io.csv_format import write_csv_sidecar

    recording = generate_session(SynthConfig(reps=2, seed=1)).recording
    settings = AnalysisConfig(chain=ChainConfig(hold_s=0.08).with_refinement("edge"))
    recording.metadata["analysis"] = settings_to_dict(settings)
    path = tmp_path / "set.csv"
    write_emg_csv(path, recording)
    sidecar = write_csv_sidecar(path, recording)
    assert recorded_settings(read_emg_csv(path)) == settings
    # a setting damaged in the sidecar: one line naming the sidecar and the field
    content = json.loads(sidecar.read_text())
    content["EmgAnalysisSettings"]["chain"]["hold_s"] = 1e9
    sidecar.write_text(json.dumps(content))
    with pytest.raises(EmgInputError) as caught:
        recorded_settings(read_emg_csv(path))
    message = str(caught.value)
    assert "set.emg.json" in message and "EmgAnalysisSettings.chain.hold_s" in message
    assert "\n" not in message
    # a sidecar that is not JSON is named too; one without settings gives none
    sidecar.write_text("{ not json")
    with pytest.raises(EmgInputError, match=r"set\.emg\.json.*not valid JSON"):
        read_emg_csv(path)
    sidecar.write_text(json.dumps({"SamplingFrequency": 2000}))
    assert recorded_settings(read_emg_csv(path)) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("time,glute,glute", "appears twice in the header (columns: time, glute, glute)"),
        ("time, glute , glute", "appears twice in the header (columns: time, glute, glute)"),
        ("time,glute,hamstring,glute", "appears twice in the header"),
        ("time,glute,glute,glute", "appears three times in the header"),
    ],
)
def test_a_column_named_twice_in_the_header_is_named_not_renamed(
    tmp_path: Path, header: str, expected: str
) -> None:
    # pandas reads "glute,glute" as glute and glute.1: the message names the column written
    path = _write(tmp_path, f"{header}\n0,1,2,3\n0.001,2,3,4\n0.002,3,4,5\n")
    with pytest.raises(EmgInputError) as caught:
        read_emg_csv(path)
    message = str(caught.value)
    assert caught.value.field == "glute" and caught.value.source == str(path)
    assert message.startswith(f"{path}, line 1, column 'glute': {expected}"), message
    assert "glute.1" not in message
    # a column really called glute.1 (none repeated) is still read
    path.write_text("time,glute,hamstring\n0,1,2\n0.001,2,3\n")
    assert [c.label for c in read_emg_csv(path).channels] == ["glute", "hamstring"]


def test_a_sidecar_rate_that_is_not_the_time_columns_is_refused(tmp_path: Path) -> None:
    import json

    from emg.io.csv_format import write_csv_sidecar
    from emg.io.recording_sidecar import SIDECAR_RATE_TOLERANCE

    recording = generate_session(SynthConfig(reps=2, seed=1, fs=2048)).recording
    path = tmp_path / "set.csv"
    write_emg_csv(path, recording)
    sidecar = write_csv_sidecar(path, recording)
    assert read_emg_csv(path).sample_rate == 2048  # as written: accepted
    for stated in (2048 * (1 + SIDECAR_RATE_TOLERANCE / 2), 2047.9):  # rounding: accepted
        sidecar.write_text(json.dumps({"SamplingFrequency": stated}))
        assert read_emg_csv(path).sample_rate == 2048
    for stated, expected in [
        (
            2000,
            "field 'SamplingFrequency': 2000 Hz, but set.csv is sampled at 2048 Hz",
        ),
        (1024.0, "field 'SamplingFrequency': 1024 Hz, but set.csv is sampled"),
        ("fast", "field 'SamplingFrequency': 'fast' is not a number of samples per second"),
        (-2048, "field 'SamplingFrequency': -2048 is not a number of samples per second"),
        (True, "field 'SamplingFrequency': True is not a number"),
    ]:
        sidecar.write_text(json.dumps({"SamplingFrequency": stated}))
        with pytest.raises(EmgInputError) as caught:
            read_emg_csv(path)
        message = str(caught.value)
        assert message.startswith(f"{sidecar}: {expected}"), message
        assert "\n" not in message


def test_a_json_file_beside_the_recording_that_is_no_sidecar_is_left_alone(
    tmp_path: Path,
) -> None:
    """``emg analyze x.csv --json > x.json`` makes x.json empty before the analysis reads
    x.csv, then writes the analysis there: neither is x.csv's sidecar."""
    import json

    from emg.io.csv_format import write_csv_sidecar
    from emg.io.recording_sidecar import SIDECAR_FIELDS, read_sidecar

    recording = generate_session(SynthConfig(reps=2, seed=1)).recording
    path = tmp_path / "x.csv"
    write_emg_csv(path, recording)
    beside = path.with_suffix(".json")
    summary = {"file": str(path), "sample_rate": 2000.0, "settings": {}, "reps": [{"index": 1}]}
    for text in ("", " \n", json.dumps(summary), "[1, 2]", "{}", '"x"'):
        beside.write_text(text)
        assert read_sidecar(path, 2000.0) == {}
        assert read_emg_csv(path).sample_rate == 2000.0
    # what write_csv_sidecar writes is a sidecar: each of its fields makes one; an export's
    # sidecar has a name of its own, so the analysis written to x.json leaves it alone
    recording.metadata["analysis"] = {"exercise": {"name": "squat"}}
    sidecar = write_csv_sidecar(path, recording)
    assert sidecar.name == "x.emg.json"
    assert set(json.loads(sidecar.read_text())) <= set(SIDECAR_FIELDS)
    for text in ("", json.dumps(summary)):
        beside.write_text(text)
        assert read_sidecar(path, 2000.0)["analysis"] == {"exercise": {"name": "squat"}}
    # an earlier export's sidecar at x.json is read when there is no x.emg.json
    sidecar.unlink()
    beside.write_text(json.dumps({"Columns": {}, "reps": []}))
    assert read_sidecar(path, 2000.0) == {}  # read (rate not stated), no settings
    beside.write_text(json.dumps({"Events": "x.events.csv", "SamplingFrequency": 1000}))
    with pytest.raises(EmgInputError, match="field 'SamplingFrequency': 1000 Hz"):
        read_emg_csv(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b'{"reps": [1,\n',
            "{sidecar}, line 2: taken for the sidecar of x.csv (same name), but not valid "
            "JSON (Expecting value); correct it, or move it away if it is not x.csv's sidecar",
        ),
        (
            b"\xff\xfe{",
            "{sidecar}: taken for the sidecar of x.csv (same name), but cannot read: "
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte; correct it",
        ),
    ],
)
def test_a_json_file_beside_the_recording_that_cannot_be_read_says_what_it_was_taken_for(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "x.csv"
    write_emg_csv(path, generate_session(SynthConfig(reps=1, seed=1)).recording)
    sidecar = path.with_suffix(".json")
    sidecar.write_bytes(content)
    with pytest.raises(EmgInputError) as caught:
        read_emg_csv(path)
    assert str(caught.value).startswith(expected.format(sidecar=sidecar)), str(caught.value)
    assert caught.value.source == str(sidecar) and "\n" not in str(caught.value)
