"""The athletes' database file: only this toolkit's databases are opened (another program's,
an empty file, a folder are refused, untouched), a new one is created whole even by several
processes at once, and a read-only or locked database is called so."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import emg.athlete_db
from emg.athlete_db import DB_NAME, TABLES, open_db
from emg.athlete_history import athletes, history
from emg.cli import main
from emg.io.csv_format import write_emg_csv
from emg.sources.synthetic import SynthConfig, generate_session

ANOTHER_PATH = "not an athletes' database; give another path (a new one is created)"


def _set(tmp_path: Path) -> Path:
    """A short synthetic set as CSV."""
    path = tmp_path / "set.csv"
    write_emg_csv(path, generate_session(SynthConfig(reps=3, seed=2)).recording)
    return path


def _sqlite(*statements: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with sqlite3.connect(path) as connection:
            for statement in statements:
                connection.execute(statement)
        connection.close()

    return make


def _ours_and(*statements: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with open_db(path):
            pass
        _sqlite(*statements)(path)

    return make


#: Files that are not an athletes' database, and the line that refuses each.
OTHER_FILES = {
    "another program's SQLite database": (
        _sqlite("CREATE TABLE notes (x)", "INSERT INTO notes VALUES (1)"),
        f"an SQLite database with other tables (notes), {ANOTHER_PATH}",
    ),
    "an empty SQLite database": (
        _sqlite("PRAGMA user_version = 0", "CREATE TABLE t (x)", "DROP TABLE t"),
        f"an empty SQLite database, {ANOTHER_PATH}",
    ),
    "an athletes' database with other tables too": (
        _ours_and("CREATE TABLE extra (x)"),
        f"an SQLite database with other tables too (extra), {ANOTHER_PATH}",
    ),
    "an empty file": (lambda path: path.touch(), f"an empty file, {ANOTHER_PATH}"),
    "a text file": (
        lambda path: path.write_text("shopping list\n" * 200),
        "not an athletes' database (not SQLite at all); give another path (a new one is created)",
    ),
}


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", list(OTHER_FILES))
def test_a_file_that_is_not_an_athletes_database_is_refused_and_left_as_it_was(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, reason = OTHER_FILES[kind]
    db = tmp_path / "other.db"
    make(db)
    before = _fingerprint(db)
    csv = _set(tmp_path)
    for argv in (
        ["athletes", "--db", str(db)],
        ["history", "Ana", "--db", str(db)],
        ["history", "--rebuild", "--db", str(db)],
        ["analyze", str(csv), "--athlete", "Ana", "--db", str(db)],
    ):
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"emg: error: {db}: {reason}\n"), argv
    assert _fingerprint(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db", "set.csv"]


def test_a_folder_given_for_the_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _set(tmp_path)
    expected = (
        f"emg: error: {tmp_path}: a folder, not an athletes' database "
        f"(the one in it: {tmp_path / DB_NAME})\n"
    )
    for argv in (
        ["athletes", "--db", str(tmp_path)],
        ["history", "Ana", "--db", str(tmp_path)],
        ["analyze", str(csv), "--athlete", "Ana", "--db", str(tmp_path)],
    ):
        assert main(argv) == 2, argv
        assert capsys.readouterr() == ("", expected), argv
    assert not (tmp_path / DB_NAME).exists()


def test_a_new_path_is_created_whole_even_by_several_at_once(tmp_path: Path) -> None:
    db = tmp_path / "new" / "folder" / DB_NAME

    def open_and_count(_: int) -> int:
        with open_db(db) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(open_and_count, range(16))) == [0] * 16
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert {name for (name,) in rows} == TABLES
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()
    leftovers = [p.name for p in db.parent.iterdir() if not p.name.startswith(DB_NAME)]
    assert leftovers == []


def test_a_locked_database_is_called_locked_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    csv = _set(tmp_path)
    db = tmp_path / DB_NAME
    assert main(["analyze", str(csv), "--athlete", "Ana", "--db", str(db)]) == 0
    capsys.readouterr()
    (indexed,) = history("Ana", db)
    monkeypatch.setattr(emg.athlete_db, "BUSY_TIMEOUT_MS", 200)
    expected = (
        f"emg: error: {db}: locked: another program holds the athletes' database "
        "(waited 0.2 s); try again when it is done\n"
    )
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another program writing: reading goes on
        assert main(["athletes", "--db", str(db)]) == 0
        assert capsys.readouterr() == ("Ana\n", "")
        assert main(["analyze", str(csv), "--athlete", "Ana", "--db", str(db)]) == 2
        assert capsys.readouterr() == ("", expected)
        holder.execute("ROLLBACK")
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")  # held whole: not even reading
        assert main(["athletes", "--db", str(db)]) == 2
        assert capsys.readouterr() == ("", expected)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert history("Ana", db) == [indexed]


@pytest.fixture
def held_back(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``emg ARGS`` in a process the file modes hold back (as root: without the capabilities
    that let root write whatever the mode says, ``setpriv``), ``read_only`` paths made so for
    it; every mode under ``tmp_path`` is given back after (SQLite gives the journal files it
    makes the database's mode)."""
    if not hasattr(os, "geteuid"):
        pytest.skip("file modes of POSIX systems")
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        prefix = [str(setpriv), "--bounding-set=-all", "--inh-caps=-all", "--"]
        if setpriv is None or subprocess.run([*prefix, "true"], check=False).returncode:
            pytest.skip("as root, needs setpriv (and the right to drop capabilities)")

    def run(*args: str, read_only: tuple[Path, ...] = ()) -> subprocess.CompletedProcess[str]:
        for path in read_only:
            path.chmod(0o555 if path.is_dir() else 0o444)
        command = [*prefix, sys.executable, "-m", "emg", *args]
        try:
            return subprocess.run(command, capture_output=True, text=True, check=False)
        finally:
            for path in [tmp_path, *tmp_path.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)

    return run


def test_a_read_only_database_or_folder_says_it_cannot_be_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    held_back: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    csv = _set(tmp_path)
    for name in ("file", "folder", "empty"):
        (tmp_path / name).mkdir()
    for name in ("file", "folder"):
        db = tmp_path / name / DB_NAME
        assert main(["analyze", str(csv), "--athlete", "Ana", "--db", str(db)]) == 0
    capsys.readouterr()
    file_db, folder_db = tmp_path / "file" / DB_NAME, tmp_path / "folder" / DB_NAME
    before = {db: history("Ana", db) for db in (file_db, folder_db)}
    index = ["analyze", str(csv), "--athlete", "Ana", "--db"]

    done = held_back(*index, str(file_db), read_only=(file_db,))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"emg: error: {file_db}: cannot write the athletes' database: the file is read-only\n"
    )
    done = held_back("athletes", "--db", str(file_db))  # reading it still works
    assert (done.returncode, done.stdout, done.stderr) == (0, "Ana\n", "")

    folder_says = (
        f"emg: error: {folder_db}: cannot write the athletes' database: its folder is "
        "read-only (SQLite keeps its journal beside the file)\n"
    )
    for args in (index, ["athletes", "--db"]):
        done = held_back(*args, str(folder_db), read_only=(folder_db.parent,))
        assert (done.returncode, done.stdout, done.stderr) == (2, "", folder_says)

    new = tmp_path / "empty" / DB_NAME
    done = held_back(*index, str(new), read_only=(new.parent,))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"emg: error: {new}: cannot create the athletes' database: its folder is read-only\n"
    )
    assert not new.exists()
    for db, entries in before.items():
        assert history("Ana", db) == entries and athletes(db) == ["Ana"]
