"""Outputs that would replace a recording, and files replaced only by complete ones."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from emg.errors import EmgInputError
from emg.io.output_guard import OutputNotWritten, check_output_path, staged, staged_folder


def test_an_output_is_refused_where_it_would_replace_what_is_read(tmp_path: Path) -> None:
    recording = tmp_path / "set.csv"
    session = tmp_path / "session"
    session.mkdir()
    (session / "session.json").write_text("{}")
    for out, reads in [
        (recording, recording),
        (tmp_path / "." / "set.csv", recording),  # the same file, another spelling
        (session / "samples.f32", session / "session.json"),
        (session / "bids", session),
        (session / "copy.csv", None),  # a session's folder holds only what was recorded
    ]:
        with pytest.raises(EmgInputError, match=str(out).replace(".", r"\.")):
            check_output_path(out, reads=reads)
    check_output_path(tmp_path / "set-report.html", reads=recording)
    check_output_path(tmp_path / "copy", reads=session)


def test_a_file_is_replaced_only_by_a_complete_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.html"
    with staged(path) as staging:
        staging.write_bytes(b"first")
    assert path.read_bytes() == b"first"

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    # the disk fills before the new file is in place: the earlier one stays, no leftovers
    monkeypatch.setattr(os, "replace", full_disk)
    with (
        pytest.raises(OutputNotWritten, match=r"the disk is full \(No space left"),
        staged(path) as staging,
    ):
        staging.write_bytes(b"second, longer")
    assert path.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_staged_files_replace_the_earlier_ones_only_when_all_are_written(tmp_path: Path) -> None:
    out = tmp_path / "set.csv"
    with staged(out) as path:
        path.write_text("first")
        path.with_suffix(".json").write_text("{}")
    # the second export fails half-way (a full disk): the first one's files stay whole
    with (
        pytest.raises(OutputNotWritten, match=r"the disk is full \(No space left"),
        staged(out) as path,
    ):
        path.write_text("second")
        raise OSError(28, "No space left on device")
    assert out.read_text() == "first" and out.with_suffix(".json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.csv", "set.json"]
    # a folder that does not exist yet is made, as the writers make it
    with staged(tmp_path / "new" / "set.csv") as path:
        path.write_text("x")
    assert (tmp_path / "new" / "set.csv").read_text() == "x"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_folder_gets_the_staged_files_only_when_all_are_written_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    out = tmp_path / "ds"
    with staged_folder(out) as folder:
        (folder / "sub-01").mkdir()
        (folder / "sub-01" / "data.bdf").write_bytes(b"one")
        (folder / "participants.tsv").write_text("sub-01\n")
    assert _tree(out) == {"sub-01/data.bdf": b"one", "participants.tsv": b"sub-01\n"}
    # a second subject fails half-way: nothing of it is in the folder, nothing is left beside
    with (
        pytest.raises(OutputNotWritten, match=r"the disk is full \(No space left"),
        staged_folder(out) as folder,
    ):
        (folder / "sub-02").mkdir()
        (folder / "sub-02" / "data.bdf").write_bytes(b"two")
        raise OSError(28, "No space left on device")
    assert _tree(out) == {"sub-01/data.bdf": b"one", "participants.tsv": b"sub-01\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]
    # once complete it is added, and the files written again replace theirs
    with staged_folder(out) as folder:
        (folder / "sub-02").mkdir()
        (folder / "sub-02" / "data.bdf").write_bytes(b"two")
        (folder / "participants.tsv").write_text("sub-01\nsub-02\n")
    assert _tree(out) == {
        "sub-01/data.bdf": b"one",
        "sub-02/data.bdf": b"two",
        "participants.tsv": b"sub-01\nsub-02\n",
    }
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_a_folder_that_fails_is_not_made_and_the_error_names_the_file_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "new" / "ds"
    with pytest.raises(OutputNotWritten) as caught, staged_folder(out) as folder:
        (folder / "sub-01").mkdir()
        (folder / "sub-01" / "data.bdf").write_bytes(b"one")
        raise OSError(28, "No space left on device", str(folder / "participants.tsv"))
    # the staging folder is an inner working: the message names where the file was going
    assert caught.value.source == str(out / "participants.tsv")
    assert caught.value.reason.startswith("the disk is full (No space left on device, ")
    assert str(caught.value).endswith("kB free); nothing was replaced")
    assert not out.exists() and list(out.parent.iterdir()) == []

    moved: list[str] = []
    replace = os.replace

    def record(source: str, target: str) -> None:
        moved.append(Path(target).relative_to(out).as_posix())
        replace(source, target)

    # the files that list others (participants.tsv) are moved after what they list
    monkeypatch.setattr(os, "replace", record)
    with staged_folder(out) as folder:
        (folder / "participants.tsv").write_text("sub-01\n")
        (folder / "sub-01" / "emg").mkdir(parents=True)
        (folder / "sub-01" / "emg" / "data.bdf").write_bytes(b"one")
        (folder / "sub-01" / "scans.tsv").write_text("emg/data.bdf\n")
    assert moved == ["sub-01/emg/data.bdf", "sub-01/scans.tsv", "participants.tsv"]


def _another_file_system(tmp_path: Path) -> Path | None:
    """A writable folder on another file system than ``tmp_path`` (shared memory), if any."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != tmp_path.stat().st_dev:
            return shm
    except OSError:
        pass
    return None


def test_a_folder_reached_through_a_link_to_another_file_system_is_written(
    tmp_path: Path,
) -> None:
    """A dataset on a mounted drive (here: a link to one) is staged on its own file system;
    staged beside it, the moves failed ("Invalid cross-device link")."""
    other = _another_file_system(tmp_path)
    if other is None:
        pytest.skip("no second writable file system here")
    target = Path(tempfile.mkdtemp(dir=other))
    try:
        (target / "participants.tsv").write_text("sub-01")
        link = tmp_path / "dataset"
        link.symlink_to(target)
        with staged_folder(link) as folder:
            (folder / "sub-02").mkdir()
            (folder / "sub-02" / "data.bdf").write_text("2")
            (folder / "participants.tsv").write_text("sub-01 sub-02")
        assert (target / "sub-02" / "data.bdf").read_text() == "2"
        assert (target / "participants.tsv").read_text() == "sub-01 sub-02"
        assert sorted(p.name for p in target.iterdir()) == ["participants.tsv", "sub-02"]
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_a_file_where_the_folder_should_be_is_named(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    out.write_text("not a folder")
    with pytest.raises(EmgInputError, match="is a file; expected a folder to write into"):
        with staged_folder(out):
            pass
    assert out.read_text() == "not a folder"


def test_a_folder_that_cannot_be_made_is_one_output_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def full(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "mkdir", full)
    with pytest.raises(OutputNotWritten) as caught, staged_folder(tmp_path / "bids"):
        pass
    assert caught.value.source == str(tmp_path / "bids")
    assert caught.value.reason.startswith("the disk is full (No space left on device")
