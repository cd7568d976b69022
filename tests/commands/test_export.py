"""``emg export``: a BIDS dataset is added to only once the export is complete, and a sample BDF
cannot store is named in the recording it comes from."""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

import emg
from emg.cli import main
from emg.errors import EmgInputError
from emg.events import Event
from emg.io import bids_format
from emg.io.bids_format import export_bids

EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"
#: The files one export of the example writes into a new dataset (subject 01).
FILES = [
    "README",
    "dataset_description.json",
    "participants.tsv",
    "sub-01/emg/sub-01_task-hipthrust_channels.tsv",
    "sub-01/emg/sub-01_task-hipthrust_emg.bdf",
    "sub-01/emg/sub-01_task-hipthrust_emg.json",
    "sub-01/emg/sub-01_task-hipthrust_events.json",
    "sub-01/emg/sub-01_task-hipthrust_events.tsv",
    "sub-01/sub-01_scans.tsv",
]


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


def _export(root: Path, *options: str) -> int:
    return main(["export", str(EXAMPLE), "--to", "bids", str(root), *options])


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def test_a_bids_export_writes_the_files_it_wrote_in_place(tmp_path: Path) -> None:
    assert _export(tmp_path / "ds") == 0
    files = _tree(tmp_path / "ds")
    assert [name for name, data in files.items() if data is not None] == FILES
    # the same bytes as written straight into the dataset, and nothing left beside it
    export_bids(emg.read(EXAMPLE), tmp_path / "in-place")
    assert files == _tree(tmp_path / "in-place")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "in-place"]


def test_a_bids_export_adds_a_recording_and_keeps_the_dataset_s_others(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    assert _export(root) == 0
    first = _tree(root)
    assert _export(root, "--subject", "02") == 0
    both = _tree(root)
    assert {name: both[name] for name in first if name != "participants.tsv"} == {
        name: data for name, data in first.items() if name != "participants.tsv"
    }
    assert both["participants.tsv"] == b"participant_id\nsub-01\nsub-02\n"
    assert "sub-02/emg/sub-02_task-hipthrust_emg.bdf" in both
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def _full_disk_after(name: str) -> object:
    """A stand-in for the writer ``name`` of bids_format: it writes half of its file and the
    disk is full (the files written before it are complete)."""

    def events(base: Path, found: Sequence[Event]) -> None:
        path = base.with_name(base.name + "_events.tsv")
        path.write_text("onset\tdur")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    def participant(root: Path, target: Path, subject: str) -> None:
        path = target / "participants.tsv"
        path.write_text("participant_id\nsub-")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    return {"_write_events": events, "_participant": participant}[name]


@pytest.mark.parametrize("subject", ["01", "02"])  # the same recording again, another one
@pytest.mark.parametrize(
    ("writer", "half_file"),
    [
        ("_write_events", "sub-{}/emg/sub-{}_task-hipthrust_events.tsv"),
        ("_participant", "participants.tsv"),
    ],
)
def test_a_bids_export_that_fails_half_way_leaves_the_earlier_dataset_as_it_was(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    subject: str,
    writer: str,
    half_file: str,
) -> None:
    root = tmp_path / "ds"
    assert _export(root, "--authors", "Jane Doe") == 0
    before = _tree(tmp_path)
    capsys.readouterr()
    monkeypatch.setattr(bids_format, writer, _full_disk_after(writer))
    # new authors: dataset_description.json is among the files written again
    assert _export(root, "--subject", subject, "--authors", "John Roe", "--overwrite") == 2
    line = _one_line(capsys)
    # the message names the file in the dataset, not its place in the staging folder
    written = root / half_file.format(subject, subject)
    assert line.startswith(f"emg: error: {written}: the disk is full (No space left on device, ")
    assert line.endswith(" kB free); nothing was replaced")
    assert _tree(tmp_path) == before  # byte for byte, and no new folder or file anywhere


def test_a_bids_export_refused_after_its_data_is_written_adds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ds"
    assert _export(root) == 0
    # a lab's participants.tsv the export cannot add to: found only once the data is written
    (root / "participants.tsv").write_text("subject\tage\nsub-01\t30\n")
    before = _tree(tmp_path)
    capsys.readouterr()
    assert _export(root, "--subject", "02") == 2
    participants = root / "participants.tsv"
    assert _one_line(capsys) == (
        f"emg: error: {participants}, column 'participant_id': no 'participant_id' column"
    )
    assert _tree(tmp_path) == before


def test_an_exception_while_staging_leaves_a_new_dataset_unmade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emg.io.output_guard import staged_folder

    def broken(*args: object) -> None:
        raise RuntimeError("a writer's bug")

    monkeypatch.setattr(bids_format, "_write_events", broken)
    root = tmp_path / "ds"
    with pytest.raises(RuntimeError, match="a writer's bug"), staged_folder(root) as staging:
        export_bids(emg.read(EXAMPLE), root, staging=staging)
    assert list(tmp_path.iterdir()) == []


def _csv_with(tmp_path: Path, value: float, at: int) -> Path:
    """A 2 s set at 1 kHz whose right hamstring has ``value`` µV at sample ``at``."""
    lines = ["time,glute_right,hamstring_right"]
    lines += [f"{i / 1000:.3f},1.5,{value if i == at else -2.0}" for i in range(2000)]
    path = tmp_path / "set.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("kind", "out"), [("bdf", "set.bdf"), ("bids", "ds")])
def test_a_sample_bdf_cannot_store_names_the_recording_the_channel_and_the_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, out: str
) -> None:
    # 9.95 V: a sample a reader takes, beyond the ±9.9 V a BDF header holds in microvolts
    csv = _csv_with(tmp_path, 9.95e6, at=1234)
    assert main(["export", str(csv), "--to", kind, str(tmp_path / out)]) == 2
    line = _one_line(capsys)
    assert line.startswith(
        f"emg: error: {csv}, column 'hamstring_right': sample 1234 (1.234 s from the start) is "
        "9.95e+06 µV, beyond the ±9.9e+06 µV (±9.9 V) that BDF can store"
    )
    assert str(tmp_path / out) not in line
    assert [p.name for p in tmp_path.iterdir()] == ["set.csv"]  # nothing written, no leftover


@pytest.mark.parametrize(("kind", "name"), [("csv", "set.csv"), ("bdf", "set.bdf")])
def test_an_export_over_an_existing_file_is_refused_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, name: str
) -> None:
    # an exported file is a recording: one written over another recording by mistake
    # (here a CSV made by hand) would be lost for good
    out = tmp_path / name
    out.write_bytes(b"time,glute,hamstring\n0,1,2\n")
    assert main(["export", str(EXAMPLE), "--to", kind, str(out)]) == 2
    line = _one_line(capsys)
    assert line == (
        f"emg: error: {out}: exists already: pass --overwrite to replace it, or name another output"
    )
    assert out.read_bytes() == b"time,glute,hamstring\n0,1,2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert main(["export", str(EXAMPLE), "--to", kind, str(out), "--overwrite"]) == 0
    assert emg.read(out).n_samples == emg.read(EXAMPLE).n_samples


def test_a_bids_export_of_a_recording_the_dataset_holds_is_refused_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ds"
    assert _export(root) == 0
    before = _tree(tmp_path)
    capsys.readouterr()
    assert _export(root, "--authors", "John Roe") == 2
    held = root / "sub-01" / "emg" / "sub-01_task-hipthrust_emg.bdf"
    assert _one_line(capsys) == (
        f"emg: error: {held}: exists already: pass --overwrite to replace it, or name another "
        "output"
    )
    assert _tree(tmp_path) == before
    # another subject is added beside it; the same one again with --overwrite
    assert _export(root, "--subject", "02") == 0
    assert _export(root, "--authors", "John Roe", "--overwrite") == 0
    description = (root / "dataset_description.json").read_text()
    assert '"John Roe"' in description
    with pytest.raises(EmgInputError, match="exists already"):
        export_bids(emg.read(EXAMPLE), root)


def test_a_csv_export_keeps_what_its_side_files_would_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV export writes OUT.events.csv and OUT.emg.json beside OUT.csv: a recording named like
    one of them was replaced without a word (and the one read, so destroyed)."""
    recording = tmp_path / "t.events.csv"
    assert main(["synth", str(recording), "--reps", "2"]) == 0
    kept = recording.read_bytes()
    capsys.readouterr()
    assert main(["export", "--to", "csv", str(recording), str(tmp_path / "t.csv")]) == 2
    assert _one_line(capsys) == (
        f"emg: error: {recording}: would replace the recording it is made from"
    )
    assert recording.read_bytes() == kept and not (tmp_path / "t.csv").exists()
    notes = tmp_path / "u.emg.json"
    notes.write_text("{}")
    assert main(["export", "--to", "csv", str(recording), str(tmp_path / "u.csv")]) == 2
    assert _one_line(capsys) == (
        f"emg: error: {notes}: exists already: pass --overwrite to replace it, or name "
        "another output"
    )
    assert notes.read_text() == "{}" and not (tmp_path / "u.csv").exists()
    options = ["export", "--to", "csv", str(recording), str(tmp_path / "u.csv"), "--overwrite"]
    assert main(options) == 0
    assert (tmp_path / "u.events.csv").is_file() and notes.read_text() != "{}"


def test_a_bdf_export_on_a_full_disk_says_so_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # pyedflib's error on a full disk has neither errno nor file: the space left decides
    from emg.io import edf_format, session_writer

    def full(path: str | Path, recording: object) -> None:
        Path(path).write_bytes(b"0" * 100)
        raise OSError("Unknown error while calling blockWriteSamples: -1")

    class Usage:
        total, used, free = 1 << 30, (1 << 30) - 4096, 4096

    monkeypatch.setattr(edf_format, "write_bdf", full)
    monkeypatch.setattr(session_writer.shutil, "disk_usage", lambda path: Usage())
    out = tmp_path / "set.bdf"
    assert main(["export", str(EXAMPLE), str(out), "--to", "bdf"]) == 2
    line = _one_line(capsys)
    assert line == (
        f"emg: error: {out}: the disk is full (Unknown error while calling blockWriteSamples: "
        "-1, 4 kB free); nothing was replaced"
    )
    assert list(tmp_path.iterdir()) == []


def _example_copy(tmp_path: Path, garbage_at: int | None = None, **meta: object) -> Path:
    """A copy of the example session, ``garbage_at`` (1-based) a line of ``events.jsonl`` that
    is not an event, ``session.json`` fields changed."""
    folder = tmp_path / "session"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("bids"))
    if garbage_at is not None:
        lines = (folder / "events.jsonl").read_text().splitlines()
        lines.insert(garbage_at - 1, "garbage {{{")
        (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    if meta:
        described = json.loads((folder / "session.json").read_text()) | meta
        (folder / "session.json").write_text(json.dumps(described))
    return folder


@pytest.mark.parametrize(
    ("subject", "said"),
    [
        ("bad_subject!", "the recording's subject 'bad_subject!' is not a BIDS subject label"),
        (["a"], 'the recording\'s subject is ["a"], not text: give a BIDS subject label'),
        (True, "the recording's subject is true, not text: give a BIDS subject label"),
    ],
)
def test_a_bad_subject_in_session_json_is_refused_naming_the_file_and_the_field(
    subject: object, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was refused as "column 'subject': ..." without a file: which file, what column?"""
    folder = _example_copy(tmp_path, subject=subject)
    root = tmp_path / "ds"
    capsys.readouterr()
    assert main(["export", str(folder), "--to", "bids", str(root)]) == 2
    line = _one_line(capsys)
    assert line.startswith(f"emg: error: {folder / 'session.json'}: field 'subject': {said}")
    assert line.endswith("(emg export --subject 01)")
    assert not root.exists()
    # the subject given instead is taken
    assert main(["export", str(folder), "--to", "bids", str(root), "--subject", "07"]) == 0
    assert (root / "sub-07" / "emg" / "sub-07_task-hipthrust_emg.bdf").is_file()


@pytest.mark.parametrize("to", ["bids", "bdf", "csv"])
def test_a_damaged_event_line_blocks_no_export_and_is_said_once(
    to: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One garbage line in events.jsonl of a complete session made every export fail."""
    folder = _example_copy(tmp_path, garbage_at=7)
    out = {"bids": "ds", "bdf": "set.bdf", "csv": "set.csv"}[to]
    capsys.readouterr()
    assert main(["export", str(folder), "--to", to, str(tmp_path / out)]) == 0
    assert capsys.readouterr().err == (
        f"emg: warning: {folder / 'events.jsonl'}: line 7 is not a JSON event: skipped\n"
    )
    assert main(["export", str(EXAMPLE), "--to", to, str(tmp_path / "whole" / out)]) == 0
    # the same events as the whole session's export: the line skipped, none of the others
    events = {
        "bids": "ds/sub-01/emg/sub-01_task-hipthrust_events.tsv",
        "bdf": "set.bdf",
        "csv": "set.events.csv",
    }[to]
    assert (tmp_path / events).read_bytes() == (tmp_path / "whole" / events).read_bytes()
    if to != "csv":  # a CSV's events are beside it, not read back with it
        assert len(emg.read(tmp_path / out).events) == len(emg.read(EXAMPLE).events) == 54


@pytest.mark.parametrize("kind", ["csv", "bdf", "bids"])
def test_a_session_without_its_settings_exports_what_it_is_analysed_as(
    kind: str, tmp_path: Path
) -> None:
    # session.json names the exercise but keeps no analysis settings: analysed as a prone hip
    # extension (hamstrings first is normal), and so is the export, not as a hip thrust
    import json
    import shutil

    import emg

    session = tmp_path / "session"
    shutil.copytree(EXAMPLE, session, ignore=shutil.ignore_patterns("bids"))
    meta = json.loads((session / "session.json").read_text())
    meta["exercise"] = "prone-hip-extension"
    del meta["analysis"]
    (session / "session.json").write_text(json.dumps(meta))
    out = tmp_path / {"csv": "x.csv", "bdf": "x.bdf", "bids": "ds"}[kind]
    assert main(["export", str(session), str(out), "--to", kind]) == 0
    recorded, exported = emg.analyze(session).to_dict(), emg.analyze(out).to_dict()
    assert recorded["exercise"]["name"] == exported["exercise"]["name"] == "prone-hip-extension"
    assert exported["reps"] == recorded["reps"]
    assert (
        exported["flags"] == recorded["flags"] and exported["cramp_risk"] == recorded["cramp_risk"]
    )
