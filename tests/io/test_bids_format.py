"""BIDS-EMG export checked against the BIDS schema, read back, and bad datasets."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pyedflib
import pytest
from bids_schema_check import (
    SCHEMA,
    description_problems,
    file_name_problems,
    sidecar_problems,
    table_problems,
)

from emg import __version__
from emg.block import Channel
from emg.errors import EmgInputError
from emg.events import Event
from emg.io.bids_format import (
    BIDS_VERSION,
    CHANNEL_COLUMNS,
    MAX_LABEL_LENGTH,
    bids_label,
    export_bids,
    read_bids,
)
from emg.io.edf_format import recording_events, write_bdf
from emg.io.open_recording import open_recording
from emg.recording import Recording
from emg.sources.synthetic import SynthConfig, generate_session

STEM = "sub-07_ses-2_task-hipthrust_run-3"
EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"


@pytest.fixture(scope="module")
def session() -> Recording:
    """Four channels at 2 kHz with loss, events and the metadata a recorded session has."""
    recording = generate_session(SynthConfig(reps=3, seed=1, loss=0.05, sides=True)).recording
    recording.events = [
        Event(1.0, "mark", "set 1"),
        Event(2.5, "rep", "1 glute-first -50 ms", 1.2, data={"rep": 1, "lead_ms": -50.0}),
        Event(4.0005, "onset", "glute_left", channel="glute_left"),
    ]
    recording.metadata.update(
        started_at="2024-05-01T10:00:00.250000+02:00",
        exercise="hip_thrust",
        subject="07",
        analysis={"chain": {"mains_hz": 50.0}},
        sensors=[{"manufacturer": "Acme", "model": "S1"}, {"manufacturer": "Acme", "model": "S2"}],
    )
    return recording


@pytest.fixture
def exported(session: Recording, tmp_path: Path) -> Path:
    return export_bids(session, tmp_path / "ds", session="2", run=3)


def _steps(path: Path) -> np.ndarray:
    reader = pyedflib.EdfReader(str(path))
    try:
        return np.array(
            [
                (reader.getPhysicalMaximum(i) - reader.getPhysicalMinimum(i))
                / (reader.getDigitalMaximum(i) - reader.getDigitalMinimum(i))
                for i in range(reader.signals_in_file)
            ]
        )
    finally:
        reader.close()


def _sidecar(data_file: Path, suffix: str) -> Path:
    return data_file.with_name(data_file.name.replace("_emg.bdf", suffix))


def test_export_layout(exported: Path) -> None:
    root = exported.parents[3]
    assert exported == root / "sub-07" / "ses-2" / "emg" / f"{STEM}_emg.bdf"
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert names == [
        "README",
        "dataset_description.json",
        "participants.tsv",
        f"sub-07/ses-2/emg/{STEM}_channels.tsv",
        f"sub-07/ses-2/emg/{STEM}_emg.bdf",
        f"sub-07/ses-2/emg/{STEM}_emg.json",
        f"sub-07/ses-2/emg/{STEM}_events.json",
        f"sub-07/ses-2/emg/{STEM}_events.tsv",
        "sub-07/ses-2/sub-07_ses-2_scans.tsv",
    ]


def test_export_follows_the_schema(exported: Path) -> None:
    root = exported.parents[3]
    assert file_name_problems(root) == []
    assert sidecar_problems(_sidecar(exported, "_emg.json")) == []
    assert description_problems(root / "dataset_description.json") == []
    channels = _sidecar(exported, "_channels.tsv")
    assert table_problems(channels, SCHEMA.rules.tabular_data.emg.EMGChannels) == []
    events = _sidecar(exported, "_events.tsv")
    assert table_problems(events, SCHEMA.rules.tabular_data.events.Events) == []
    participants = root / "participants.tsv"
    rule = SCHEMA.rules.tabular_data.modality_agnostic.Participants
    assert table_problems(participants, rule) == []


def test_export_contents(exported: Path, session: Recording) -> None:
    root = exported.parents[3]
    sidecar = json.loads(_sidecar(exported, "_emg.json").read_text(encoding="utf-8"))
    assert sidecar["SamplingFrequency"] == 2000
    assert sidecar["PowerLineFrequency"] == 50
    assert sidecar["SoftwareFilters"] == "n/a"
    assert sidecar["RecordingType"] == "continuous"
    assert sidecar["EMGPlacementScheme"] == "Other"
    assert "SENIAM" in sidecar["EMGPlacementSchemeDescription"]
    assert "sacral vertebrae and the greater trochanter" in sidecar["EMGPlacementSchemeDescription"]
    assert sidecar["TaskName"] == "hip_thrust"
    assert sidecar["EMGChannelCount"] == 4
    assert sidecar["RecordingDuration"] == 14.0
    assert sidecar["Manufacturer"] == "Acme"
    assert sidecar["ManufacturersModelName"] == "S1, S2"
    description = json.loads((root / "dataset_description.json").read_text(encoding="utf-8"))
    assert description["BIDSVersion"] == BIDS_VERSION == "1.11.1"  # known to bids-validator 3
    assert description["DatasetType"] == "raw"
    assert description["GeneratedBy"][0] == {
        "Name": "emg-toolkit",
        "Version": __version__,
        "Description": "Export of wearable surface EMG recordings to BIDS-EMG",
    }
    rows = _rows(_sidecar(exported, "_channels.tsv"))
    # EDF+ signal type first, the muscle name shortened to fit the 16 characters of a label
    assert [r["name"] for r in rows] == [
        "EMG glute_left",
        "EMG hamstrings_l",
        "EMG glute_right",
        "EMG hamstrings_r",
    ]
    assert [r["target_muscle"] for r in rows] == ["gluteus maximus", "hamstrings"] * 2
    assert {r["units"] for r in rows} == {"µV"}
    assert {r["type"] for r in rows} == {"EMG"}
    assert {r["status"] for r in rows} == {"good"}
    assert {r["sampling_frequency"] for r in rows} == {"2000"}
    events = _rows(_sidecar(exported, "_events.tsv"))
    assert len(events) == len(recording_events(session)) == 128
    rep = next(r for r in events if r["trial_type"] == "rep")
    assert rep == {
        "onset": "2.5",
        "duration": "1.2",
        "trial_type": "rep",
        "channel": "n/a",
        "summary": "1 glute-first -50 ms",
        "rep": "n/a",  # the rep number is the detail's "index"
        "side": "n/a",
        "order": "n/a",
        "lead_ms": "-50.0",
        "ratio": "n/a",
        "detail": '{"rep":1,"lead_ms":-50.0}',
    }
    described = json.loads(_sidecar(exported, "_events.json").read_text(encoding="utf-8"))
    assert set(described) == set(events[0])
    assert _rows(root / "participants.tsv") == [{"participant_id": "sub-07"}]


def _rows(path: Path) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def _assert_same(back: Recording, original: Recording, data_file: Path) -> None:
    assert back.n_samples == original.n_samples
    assert back.sample_rate == original.sample_rate
    assert back.channels == tuple(
        dataclasses.replace(c, device=data_file.name) for c in original.channels
    )
    error = np.abs(back.data.astype(np.float64) - original.data.astype(np.float64))
    assert np.all(error.max(axis=0) <= _steps(data_file) * 1.0001)
    np.testing.assert_array_equal(back.lost, original.lost)


def test_read_back_from_the_root_and_the_file(exported: Path, session: Recording) -> None:
    root = exported.parents[3]
    for path in (root, exported):
        back = read_bids(path)
        _assert_same(back, session, exported)
        assert back.events == recording_events(session)  # in full, from events.tsv
        assert back.metadata["started_at"] == "2024-05-01T10:00:00.250000+02:00"
        assert back.metadata["exercise"] == "hip_thrust"
        assert back.metadata["subject"] == "07"
        assert back.metadata["power_line_hz"] == 50
        assert back.metadata["source_format"] == "bids"
        assert back.metadata["bids"]["entities"] == {
            "sub": "07",
            "ses": "2",
            "task": "hipthrust",
            "run": "3",
        }


def test_events_come_from_the_annotations_without_events_tsv(
    exported: Path, session: Recording
) -> None:
    _sidecar(exported, "_events.tsv").unlink()
    back = read_bids(exported)
    expected = recording_events(session)
    assert [e.annotation for e in back.events] == [e.annotation for e in expected]
    rep = next(e for e in back.events if e.kind == "rep")
    assert rep.data == {}  # the annotations hold no detail
    np.testing.assert_array_equal(back.lost, session.lost)


def test_long_labels_and_muscle_hints(session: Recording, tmp_path: Path) -> None:
    channels = list(session.channels)
    channels[3] = Channel.from_name("semimembranosus_right")
    renamed = dataclasses.replace(session, channels=tuple(channels))
    data_file = export_bids(renamed, tmp_path / "ds")
    rows = _rows(_sidecar(data_file, "_channels.tsv"))
    assert rows[3]["name"] == "EMG sm_right"
    assert rows[3]["target_muscle"] == "semimembranosus"
    back = read_bids(data_file)
    assert back.channels[3].label == "semimembranosus_right"
    _assert_same(back, renamed, data_file)


def test_channels_tsv_decides_muscle_and_type(exported: Path) -> None:
    channels_tsv = _sidecar(exported, "_channels.tsv")
    text = channels_tsv.read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[2] = lines[2].replace("\tEMG\t", "\tMISC\t")  # hamstring_left is not EMG any more
    cells = lines[4].split("\t")
    cells[CHANNEL_COLUMNS.index("target_muscle")] = "semitendinosus"
    lines[4] = "\t".join(cells)
    channels_tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    back = read_bids(exported)
    assert [c.label for c in back.channels] == ["glute_left", "glute_right", "semitendinosus_right"]


def test_overrides(exported: Path, session: Recording) -> None:
    back = read_bids(exported, {"glute": "glute_right", "hamstring": "hamstring_right"})
    assert [c.label for c in back.channels] == ["glute", "hamstring"]
    np.testing.assert_array_equal(back.lost, session.lost[:, [2, 3]])
    assert {e.channel for e in back.events if e.kind == "loss"} == {"glute", "hamstring"}


def test_defaults_for_subject_and_task(session: Recording, tmp_path: Path) -> None:
    plain = dataclasses.replace(session, metadata={})
    data_file = export_bids(plain, tmp_path / "ds")
    assert data_file.relative_to(tmp_path / "ds").as_posix() == "sub-01/emg/sub-01_task-emg_emg.bdf"
    sidecar = json.loads(_sidecar(data_file, "_emg.json").read_text(encoding="utf-8"))
    assert sidecar["PowerLineFrequency"] == "n/a"
    assert "Manufacturer" not in sidecar
    assert not list((tmp_path / "ds").rglob("*_scans.tsv"))
    named = export_bids(plain, tmp_path / "ds2", subject="sub-A1", task="HipThrust")
    assert named.name == "sub-A1_task-HipThrust_emg.bdf"


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"subject": "a_b"}, "subject"),
        ({"subject": "0-1"}, "subject"),
        ({"subject": "../x"}, "subject"),
        ({"subject": "é1"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"task": "Hip Thrust"}, "task"),
        ({"task": ""}, "task"),
        ({"session": "1.2"}, "session"),
        ({"session": ""}, "session"),
    ],
)
def test_a_label_bids_does_not_allow_is_refused_not_rewritten(
    session: Recording, tmp_path: Path, labels: dict[str, str], field: str
) -> None:
    root = tmp_path / "ds"
    export_bids(session, root, subject="01")
    before = sorted(p for p in root.rglob("*"))
    with pytest.raises(EmgInputError, match=r"is not a BIDS .* label") as caught:
        export_bids(session, root, **labels)
    assert caught.value.field == field
    assert sorted(p for p in root.rglob("*")) == before


def test_bids_label_names_the_option() -> None:
    assert bids_label("sub-07", "subject") == "07"
    with pytest.raises(EmgInputError, match=r"--subject '0-1' is not a BIDS subject label"):
        bids_label("0-1", "subject", "--subject")


def test_a_label_too_long_for_a_file_name_is_refused(session: Recording, tmp_path: Path) -> None:
    """300 characters failed with "File name too long" from the system."""
    longest = "a" * MAX_LABEL_LENGTH
    assert bids_label(f"sub-{longest}", "subject") == longest
    with pytest.raises(EmgInputError) as caught:
        bids_label("a" * 300, "subject", "--subject")
    assert str(caught.value) == (
        "command line: --subject 'aaaaaaaaaaaaaaaa...' is 300 characters long: a BIDS subject "
        "label may have at most 64 here, which keeps every file name of the dataset under 255 "
        "bytes"
    )
    with pytest.raises(EmgInputError, match=r"^column 'task': task 'tt.*' is 65 characters"):
        export_bids(session, tmp_path / "ds", task="t" * 65)
    exercise = {**session.metadata, "exercise": "e" * 65}
    long_exercise = dataclasses.replace(session, metadata=exercise)
    with pytest.raises(EmgInputError, match=r"makes a BIDS task label of 65 characters.*the task"):
        export_bids(long_exercise, tmp_path / "ds")
    long_subject = dataclasses.replace(session, metadata={**session.metadata, "subject": "b" * 99})
    with pytest.raises(EmgInputError, match=r"'bbbbbbbbbbbbbbbb\.\.\.' is not a BIDS subject"):
        export_bids(long_subject, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()
    # every label at its longest, with a session and a run: each name under 255 bytes
    root = export_bids(
        session, tmp_path / "ds", subject=longest, task=longest, session=longest, run=10**9
    ).parents[3]
    names = [p.name for p in root.rglob("*")]
    assert len(names) > 8 and max(len(n.encode()) for n in names) < 255


def test_a_recorded_subject_bids_does_not_allow_asks_for_one(
    session: Recording, tmp_path: Path
) -> None:
    odd = dataclasses.replace(session, metadata={**session.metadata, "subject": "a_b"})
    with pytest.raises(EmgInputError, match=r"the recording's subject 'a_b'.*--subject"):
        export_bids(odd, tmp_path / "ds")
    assert export_bids(odd, tmp_path / "ds", subject="ab").parent.parent.name == "sub-ab"


def test_a_recorded_subject_refused_names_the_file_and_the_field_it_was_read_from(
    session: Recording, tmp_path: Path
) -> None:
    """A bad subject of a session's session.json was refused as "column 'subject'", naming
    no file: it names the file the subject was read from, and its field."""
    folder = tmp_path / "session"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("bids"))
    meta = json.loads((folder / "session.json").read_text())
    for subject, said in [
        ("a_b", "the recording's subject 'a_b' is not a BIDS subject label (letters and digits"),
        ({"id": 7}, 'the recording\'s subject is {"id": 7}, not text: give a BIDS subject'),
    ]:
        (folder / "session.json").write_text(json.dumps(meta | {"subject": subject}))
        with pytest.raises(EmgInputError) as caught:
            export_bids(open_recording(folder), tmp_path / "ds")
        assert str(caught.value).startswith(f"{folder / 'session.json'}: field 'subject': {said}")
        assert not (tmp_path / "ds").exists()
    # a BDF file's subject is its patient code
    odd = dataclasses.replace(session, metadata={**session.metadata, "subject": "MCH-0234"})
    write_bdf(tmp_path / "odd.bdf", odd)
    with pytest.raises(EmgInputError) as caught:
        export_bids(open_recording(tmp_path / "odd.bdf"), tmp_path / "ds")
    assert str(caught.value).startswith(
        f"{tmp_path / 'odd.bdf'}: field 'patient code': the recording's subject 'MCH-0234' is not"
    )
    # a whole number is its digits; none recorded is 01
    (folder / "session.json").write_text(json.dumps(meta | {"subject": 7}))
    assert export_bids(open_recording(folder), tmp_path / "ds").name.startswith("sub-7_")
    (folder / "session.json").write_text(json.dumps(meta | {"subject": None}))
    assert export_bids(open_recording(folder), tmp_path / "ds").name.startswith("sub-01_")


def test_several_recordings_need_the_file(session: Recording, tmp_path: Path) -> None:
    root = tmp_path / "ds"
    first = export_bids(session, root)
    second = export_bids(session, root, subject="08")
    assert _rows(root / "participants.tsv") == [
        {"participant_id": "sub-07"},
        {"participant_id": "sub-08"},
    ]
    with pytest.raises(EmgInputError, match="2 EMG recordings") as caught:
        read_bids(root)
    message = str(caught.value)
    assert str(root) in message and "pass the file" in message
    assert "sub-07/emg/sub-07_task-hipthrust_emg.bdf" in message
    assert "sub-08/emg/sub-08_task-hipthrust_emg.bdf" in message
    assert read_bids(second).metadata["subject"] == "08"
    assert read_bids(first).metadata["subject"] == "07"


def _bids_error(path: Path) -> EmgInputError:
    with pytest.raises(EmgInputError) as caught:
        read_bids(path)
    return caught.value


def test_wrong_sample_rate(exported: Path) -> None:
    sidecar_path = _sidecar(exported, "_emg.json")
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    sidecar["SamplingFrequency"] = 1000
    sidecar_path.write_text(json.dumps(sidecar), encoding="utf-8")
    error = _bids_error(exported)
    assert "wrong sample rate" in str(error)
    assert error.source == str(sidecar_path) and error.field == "SamplingFrequency"
    assert "1000 Hz" in str(error) and "2000 Hz" in str(error)
    del sidecar["SamplingFrequency"]
    sidecar_path.write_text(json.dumps(sidecar), encoding="utf-8")
    assert "SamplingFrequency is missing" in str(_bids_error(exported))


def test_channels_at_their_own_rate_are_accepted_when_documented(exported: Path) -> None:
    sidecar_path = _sidecar(exported, "_emg.json")
    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    sidecar_path.write_text(json.dumps(sidecar | {"SamplingFrequency": 1000}), encoding="utf-8")
    channels_tsv = _sidecar(exported, "_channels.tsv")
    header = channels_tsv.read_text(encoding="utf-8").splitlines()[0].split("\t")
    trigger = {"name": "trigger", "type": "TRIG", "sampling_frequency": "1000"}
    with channels_tsv.open("a", encoding="utf-8") as handle:
        handle.write("\t".join(trigger.get(c, "n/a") for c in header) + "\n")
    assert read_bids(exported).sample_rate == 2000.0  # EMG at 2 kHz, the trigger at 1 kHz
    rows = _rows(channels_tsv)
    rows[0]["sampling_frequency"] = "1000"
    channels_tsv.write_text(
        "\n".join(["\t".join(header)] + ["\t".join(r.values()) for r in rows]) + "\n",
        encoding="utf-8",
    )
    error = _bids_error(exported)
    assert "wrong sample rate" in str(error) and "glute_left" in str(error)
    assert error.source == str(channels_tsv) and error.field == "sampling_frequency"


def test_participants_are_added_to_an_existing_table(session: Recording, tmp_path: Path) -> None:
    root = tmp_path / "ds"
    export_bids(session, root)
    (root / "participants.tsv").write_text("participant_id\tage\nsub-07\t31", encoding="utf-8")
    export_bids(session, root, subject="08")
    assert _rows(root / "participants.tsv") == [
        {"participant_id": "sub-07", "age": "31"},
        {"participant_id": "sub-08", "age": "n/a"},
    ]


def test_no_emg_data(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "sub-01" / "anat").mkdir(parents=True)
    (root / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.11.2"}')
    error = _bids_error(root)
    assert "no EMG recording" in str(error) and str(root) in str(error)
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "not a BIDS dataset" in str(_bids_error(plain))
    assert "no such file" in str(_bids_error(tmp_path / "missing"))


@pytest.mark.parametrize(
    ("suffix", "text", "field", "line"),
    [
        ("_emg.json", '{"SamplingFrequency": 2000,\n "TaskName": }', None, 2),
        ("_emg.json", '{"SamplingFrequency": "fast"}', "SamplingFrequency", None),
        ("_emg.json", "[1, 2]", None, None),
        ("_channels.tsv", "name\ttype\nglute_left\tEMG\textra\n", None, 2),
        ("_channels.tsv", "label\ttype\nglute_left\tEMG\n", "name", None),
        (
            "_channels.tsv",
            "name\ttype\tsampling_frequency\nglute_left\tEMG\tfast\n",
            "sampling_frequency",
            2,
        ),
        ("_events.tsv", "onset\tduration\n1.0\t0\nsoon\t0\n", "onset", 3),
        ("_events.tsv", "onset\tduration\n1.0\t-2\n", "duration", 2),
        ("_events.tsv", "onset\ttrial_type\n1.0\tmark\n", "duration", None),
        ("_events.tsv", "onset\tduration\tdetail\n1.0\t0\t{oops\n", "detail", 2),
    ],
)
def test_malformed_sidecars_name_file_field_and_line(
    exported: Path, suffix: str, text: str, field: str | None, line: int | None
) -> None:
    path = _sidecar(exported, suffix)
    path.write_text(text, encoding="utf-8")
    error = _bids_error(exported)
    assert error.source == str(path)
    assert str(path) in str(error)
    assert error.field == field
    assert error.line == line


def test_bad_data_file_in_a_dataset(exported: Path) -> None:
    exported.write_bytes(exported.read_bytes()[:5000])
    error = _bids_error(exported.parents[3])
    assert "truncated" in str(error) and str(exported) in str(error)
