"""The exports, checked by the tools labs use rather than by the toolkit's own readers: the
official BIDS validator, MNE-BIDS, MNE and edfio; and the BIDS round trip through the analysis.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import emg
from emg.io.bids_format import DatasetInfo, export_bids
from emg.recording import Recording

EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"
INFO = DatasetInfo(
    authors=("Jane Doe", "John Roe"),
    license="CC-BY-4.0",
    institution="Example Sports Lab",
    institution_address="1 Main Street, Town",
    department="Biomechanics",
    instructions="Push the hips up from the glutes, three seconds per rep.",
    electrode_manufacturer="Ambu",
    electrode_model="BlueSensor N",
)
#: The sidecar and dataset fields the options above give: no warning may ask for them.
GIVEN = {
    "License",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "Instructions",
    "ElectrodeManufacturer",
    "ElectrodeManufacturersModelName",
    "Manufacturer",  # from the sensor profile
    "ManufacturersModelName",
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Recording]:
    recording = emg.read(EXAMPLE)
    # as recorded from the reference firmware: the export looks the sensor's maker up
    recording.metadata["sensors"] = [
        {"name": "EMG-A1", "profile": "emg-stream-v1", "channels": ["glute", "hamstring"]}
    ]
    root = tmp_path_factory.mktemp("lab") / "ds"
    data_file = export_bids(recording, root, info=INFO)
    return root, data_file, recording


def test_official_validator_finds_no_error_and_asks_for_nothing_given(
    dataset: tuple[Path, Path, Recording],
) -> None:
    root, _, _ = dataset
    validator = shutil.which("bids-validator-deno")
    assert validator, "bids-validator-deno comes with the test extra"
    run = subprocess.run(
        [validator, str(root), "--format", "json"], capture_output=True, text=True, timeout=600
    )
    issues = json.loads(run.stdout)["issues"]["issues"]
    assert [i for i in issues if i["severity"] == "error"] == []
    codes = {i["code"] for i in issues}
    unwanted = {"UNKNOWN_BIDS_VERSION", "NO_AUTHORS", "TOO_FEW_AUTHORS", "README_FILE_SMALL"}
    assert not codes & unwanted
    asked = {i.get("subCode") for i in issues if i["code"].endswith("_KEY_RECOMMENDED")}
    assert not asked & GIVEN, asked


def test_mne_bids_reads_types_units_and_events(dataset: tuple[Path, Path, Recording]) -> None:
    mne_bids = pytest.importorskip("mne_bids")
    root, data_file, recording = dataset
    path = mne_bids.get_bids_path_from_fname(data_file).update(root=root)
    raw = mne_bids.read_raw_bids(path, verbose="error")
    assert raw.get_channel_types() == ["emg", "emg"]
    assert raw.info["sfreq"] == recording.sample_rate and raw.info["line_freq"] == 50
    events_tsv = data_file.with_name(data_file.name.replace("_emg.bdf", "_events.tsv"))
    rows = events_tsv.read_text(encoding="utf-8").splitlines()[1:]
    assert len(raw.annotations) == len(rows) > 0
    notes = raw.annotations
    reps = [x for x, d in zip(notes.extras, notes.description, strict=True) if d == "rep"]
    assert reps and {r["order"] for r in reps} <= {"glute-first", "hamstring-first", "simultaneous"}
    np.testing.assert_allclose(
        raw.get_data().T * 1e6, recording.data, atol=float(np.abs(recording.data).max()) / 2**22
    )


def test_edfio_reads_the_typed_labels_and_the_samples(
    dataset: tuple[Path, Path, Recording],
) -> None:
    edfio = pytest.importorskip("edfio")
    _, data_file, recording = dataset
    bdf = edfio.read_bdf(data_file)
    signals = [s for s in bdf.signals if not s.label.startswith("BDF Annotations")]
    assert [s.label for s in signals] == ["EMG glute", "EMG hamstring"]
    assert {s.physical_dimension for s in signals} == {"uV"}
    for column, signal in enumerate(signals):
        step = (signal.physical_max - signal.physical_min) / (2**24 - 1)
        error = np.abs(signal.data[: recording.n_samples] - recording.data[:, column])
        assert error.max() <= step * 1.0001


def test_bids_round_trip_gives_the_same_reps(dataset: tuple[Path, Path, Recording]) -> None:
    root, _, _ = dataset
    # the sidecar carries the settings the session was recorded with (an older version's,
    # here), so the dataset is analysed as the session is
    recorded = emg.analyze(EXAMPLE)
    exported = emg.analyze(root)
    assert exported.settings == recorded.settings
    assert list(exported.reps["order"]) == list(recorded.reps["order"])
    np.testing.assert_array_equal(exported.reps["lead_ms"], recorded.reps["lead_ms"])


@pytest.mark.parametrize("kind", ["bids", "bdf", "csv"])
def test_exports_analyse_to_the_same_reps_orders_and_flags(kind: str, tmp_path: Path) -> None:
    from emg.io.csv_format import write_csv_sidecar, write_emg_csv, write_events_csv
    from emg.io.edf_format import write_bdf
    from emg.io.recording_sidecar import write_sidecar

    recording = emg.read(EXAMPLE)
    target = {"bids": tmp_path / "ds", "bdf": tmp_path / "set.bdf", "csv": tmp_path / "set.csv"}
    path = target[kind]
    if kind == "bids":
        export_bids(recording, path)
    elif kind == "bdf":
        write_bdf(path, recording)
        write_sidecar(path, recording)
    else:
        write_emg_csv(path, recording)
        write_events_csv(path, recording.events)
        write_csv_sidecar(path, recording)
    # the sidecars (BIDS, and beside the BDF and CSV files) carry the session's settings
    native = emg.analyze(EXAMPLE)
    exported = emg.analyze(path)
    assert exported.settings == native.settings
    assert list(exported.reps["order"]) == list(native.reps["order"])
    np.testing.assert_allclose(exported.reps["lead_ms"], native.reps["lead_ms"], atol=0.5)
    np.testing.assert_allclose(exported.reps["ratio"], native.reps["ratio"], rtol=1e-3)
    assert list(exported.flags["kind"]) == list(native.flags["kind"])


def test_anonymised_export_names_nobody(tmp_path: Path) -> None:
    from emg.cli import main

    recording = emg.read(EXAMPLE)
    native = tmp_path / "named"
    # a session as recorded for a named athlete, from a personalised sensor
    import shutil

    shutil.copytree(EXAMPLE, native)
    meta_path = native / "session.json"
    meta = json.loads(meta_path.read_text())
    meta.update(
        athlete="Zoltan Quixby",
        subject="zquixby",
        sensors=[{"name": "Quixby glute", "profile": "emg-stream-v1", "address": "AA:BB"}],
    )
    meta["channels"][0]["device"] = "Quixby glute"
    meta_path.write_text(json.dumps(meta))
    for kind, out in (
        ("bids", tmp_path / "ds"),
        ("bdf", tmp_path / "y.bdf"),
        ("csv", tmp_path / "x.csv"),
    ):
        assert main(["export", str(native), str(out), "--to", kind, "--anonymise"]) == 0
        files = [out] if out.is_file() else [p for p in out.rglob("*") if p.is_file()]
        if kind == "csv":
            files += [tmp_path / "x.emg.json", tmp_path / "x.events.csv"]
        if kind == "bdf":
            files.append(tmp_path / "y.emg.json")
        text = b"".join(p.read_bytes() for p in files)
        assert b"Quixby" not in text and b"zquixby" not in text and b"AA:BB" not in text
        assert meta["started_at"][:10].encode() not in text
    # without --anonymise the subject label names the person
    assert main(["export", str(native), str(tmp_path / "named.bdf"), "--to", "bdf"]) == 0
    assert b"zquixby" in (tmp_path / "named.bdf").read_bytes()
    back = emg.read(tmp_path / "ds")
    assert back.metadata.get("subject") in (None, "01") and back.n_samples == recording.n_samples


def test_a_bdf_export_carries_the_settings_in_its_sidecar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from emg.cli import main

    out = tmp_path / "set.bdf"
    assert main(["export", str(EXAMPLE), str(out), "--to", "bdf"]) == 0
    said = capsys.readouterr().out
    assert said.strip().endswith(
        f"and {tmp_path / 'set.emg.json'} (sample rate, analysis settings)"
    )
    native = emg.analyze(EXAMPLE)
    exported = emg.analyze(out)
    assert exported.settings == native.settings
    assert exported.to_dict()["reps"] == native.to_dict()["reps"]
    assert exported.to_dict()["settings"] == native.to_dict()["settings"]
    # the sidecar is an output as the file is: not replaced without --overwrite
    out.unlink()
    assert main(["export", str(EXAMPLE), str(tmp_path / "set"), "--to", "bdf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"emg: error: {tmp_path / 'set.emg.json'}: exists already")
    assert not out.exists()
