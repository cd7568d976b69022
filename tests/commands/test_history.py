"""``emg history`` and ``emg athletes``: the rebuild keeps what only the database knows (sessions
indexed from files, or under an athlete their folder does not name) and names each session it
drops, and keeps the earlier entry of a folder it cannot read; an athlete's name that is not plain
text is refused naming ``NAME``, and one kept from before with a control character prints
escaped and is found so."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from emg.athlete_db import DB_NAME
from emg.athlete_history import athletes, history, rebuild
from emg.cli import main
from emg.io.csv_format import write_emg_csv
from emg.sources.synthetic import SynthConfig, generate_session

EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"


def _session(parent: Path, name: str, athlete: str | None) -> Path:
    """A copy of the example session in ``parent/name``, recorded for ``athlete``."""
    folder = parent / name
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("bids"))
    if athlete is not None:
        description = folder / "session.json"
        meta = json.loads(description.read_text(encoding="utf-8"))
        description.write_text(json.dumps({**meta, "athlete": athlete}), encoding="utf-8")
    return folder


def _set(path: Path, seed: int) -> Path:
    write_emg_csv(path, generate_session(SynthConfig(reps=3, seed=seed)).recording)
    return path


def _index(path: Path, athlete: str, db: Path, *options: str) -> None:
    assert main(["analyze", str(path), "--athlete", athlete, "--db", str(db), *options]) == 0


def test_the_rebuild_keeps_sessions_only_the_database_knows_and_names_those_it_drops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / DB_NAME
    recorded = _session(tmp_path, "recorded", "Ana")  # its session.json names Ana
    unnamed = _session(tmp_path, "unnamed", None)  # indexed under Cleo by emg analyze
    kept_set = _set(tmp_path / "kept.csv", 1)
    gone_set = _set(tmp_path / "gone.csv", 2)
    _index(recorded, "Ana", db)
    _index(kept_set, "Ana", db, "--mvc", "glute=300uv", "--mvc", "hamstring=250uv")
    _index(unnamed, "Cleo", db)
    _index(gone_set, "Ben", db)
    before = {name: history(name, db) for name in ("Ana", "Ben", "Cleo")}
    gone_set.unlink()
    capsys.readouterr()

    assert main(["history", "--rebuild", "--db", str(db)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"dropped: {gone_set.resolve()} (indexed under Ben): no longer there",
        f"rebuilt {db}: 1 session from the session folders, 2 kept as indexed "
        "(files, or folders not below the database or naming no athlete)",
    ]
    assert athletes(db) == ["Ana", "Cleo"]
    assert history("Ana", db) == before["Ana"]  # the file's entry as indexed, with its MVC
    assert history("Cleo", db) == before["Cleo"]
    assert {e.unit for e in history("Ana", db)} == {"%MVC", "x rest"}


def test_a_session_folder_moved_below_the_database_is_found_again_not_dropped(
    tmp_path: Path,
) -> None:
    db = tmp_path / DB_NAME
    folder = _session(tmp_path, "20261124-074132-hip-thrust", "Ana")
    _index(folder, "Ana", db)
    (tmp_path / "2026").mkdir()
    moved = folder.rename(tmp_path / "2026" / folder.name)
    done = rebuild(db)
    assert (done.indexed, done.failed, done.kept, done.dropped) == ((str(moved),), (), (), ())
    assert [e.folder for e in history("Ana", db)] == [str(moved.resolve())]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("\x1b[2JAna", "the name holds a control character (U+001B); give it as plain text"),
        ("Ana\u202eB", "the name holds a control character (U+202E); give it as plain text"),
        ("a" * 100_000, "the name is 100000 characters long; at most 200"),
    ],
    ids=["escape", "bidi-override", "100000-long"],
)
def test_history_refuses_a_name_that_is_not_plain_text_naming_the_argument(
    name: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / DB_NAME
    _index(_set(tmp_path / "set.csv", 1), "Ana", db)
    capsys.readouterr()
    assert main(["history", name, "--db", str(db)]) == 2
    assert capsys.readouterr() == ("", f"emg: error: command line: NAME: {reason}\n")


def test_a_folder_the_rebuild_cannot_read_keeps_its_earlier_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / DB_NAME
    damaged = _session(tmp_path, "damaged", "Ana")
    _index(damaged, "Ana", db)
    before = history("Ana", db)
    (damaged / "samples.f32").write_bytes(b"\xff" * 7)  # not whole samples any more
    capsys.readouterr()

    assert main(["history", "--rebuild", "--db", str(db)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("not indexed: ") and out[0].endswith("; its earlier entry kept")
    assert "samples.f32" in out[0]
    assert out[1] == f"rebuilt {db}: 0 sessions from the session folders"
    assert history("Ana", db) == before
    done = rebuild(db)
    assert done.kept_earlier == (str(damaged.resolve()),)
    assert history("Ana", db) == before


def test_a_name_kept_with_a_control_character_prints_escaped_and_is_found_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / DB_NAME
    _index(_set(tmp_path / "set.csv", 1), "Ana", db)
    with sqlite3.connect(db) as connection:  # as a database from before names were checked
        connection.execute("UPDATE athletes SET name = ? WHERE name = 'Ana'", ("\x1b[2JAna",))
    connection.close()
    capsys.readouterr()

    assert main(["athletes", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "\\x1b[2JAna\n"
    assert main(["history", "\\x1b[2JAna", "--db", str(db)]) == 0
    assert "set.csv" in capsys.readouterr().out
    assert [e.athlete for e in history("\\x1b[2JAna", db)] == ["\x1b[2JAna"]
    assert main(["history", "Ana", "--db", str(db)]) == 2
    assert capsys.readouterr().err.endswith("no sessions of 'Ana'; athletes: \\x1b[2JAna\n")


def test_analyze_says_where_it_indexed_a_file_and_its_json_stays_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _set(tmp_path / "set.csv", 1)
    capsys.readouterr()
    assert main(["analyze", str(path), "--athlete", "Ana"]) == 0
    line = f"indexed 3 reps under Ana in {tmp_path / DB_NAME}"
    assert capsys.readouterr().out.splitlines()[-1] == line
    assert main(["analyze", str(path), "--athlete", "Ana", "--json"]) == 0
    out, err = capsys.readouterr()
    assert len(json.loads(out)["reps"]) == 3 and err == line + "\n"
    assert main(["history", "Ana", "--db", str(tmp_path / DB_NAME)]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[:3] == ["-", "hip-thrust", "3"]  # a plain file has no recording date
