"""The athletes' history: an embedded SQLite database of sessions and their reps.

The session folders stay the source of truth; the database is an index of them that
``emg history --rebuild`` recreates. It lives beside the recordings (``athletes.sqlite``). WAL
journaling lets two recordings on one machine (two athletes at two stations) write at once,
each waiting for the other's short transaction; a recording killed mid-write leaves the
database as it was before that transaction. The schema carries its version
(``PRAGMA user_version``) and is brought up to date by :data:`MIGRATIONS` on opening. A new
database is made whole beside its path and then put in place, so a file at the path is either
one of these databases or refused (another program's, empty, not SQLite): the toolkit never
writes its tables into a file it did not make.

Names are personal data: they stay in this file, on this computer.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from emg.analysis.history import RepEntry, SessionEntry
from emg.athlete_name_text import shown_name
from emg.errors import EmgInputError

#: The database file's name beside the recordings.
DB_NAME = "athletes.sqlite"
#: How long (ms) a writer waits for another's transaction before giving up.
BUSY_TIMEOUT_MS = 30_000

#: Schema version n is reached by running ``MIGRATIONS[n - 1]``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE athletes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        athlete_id INTEGER NOT NULL REFERENCES athletes(id),
        folder TEXT NOT NULL UNIQUE,
        date TEXT,
        exercise TEXT NOT NULL,
        sensors TEXT NOT NULL,
        rest_s TEXT,
        mvc_uv TEXT NOT NULL,
        unit TEXT NOT NULL,
        glute_first_share REAL,
        median_lead_ms REAL,
        median_ratio REAL,
        flags TEXT NOT NULL,
        highest_cramp_risk TEXT NOT NULL
    );
    CREATE TABLE reps (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        rep INTEGER NOT NULL,
        side TEXT,
        lead_ms REAL,
        rep_order TEXT,
        ratio REAL,
        glute_level REAL,
        hamstring_level REAL,
        glute_median_frequency_hz REAL,
        hamstring_median_frequency_hz REAL,
        raised_flags TEXT NOT NULL,
        cramp_risk TEXT
    );
    CREATE INDEX sessions_by_athlete ON sessions(athlete_id, date);
    """,
)
#: The tables :data:`MIGRATIONS` make: a database with others (or without these) is not ours.
TABLES = frozenset({"athletes", "sessions", "reps"})
#: What to do about a path that holds something else.
_ANOTHER_PATH = "give another path (a new one is created)"


@contextmanager
def open_db(path: str | Path) -> Iterator[sqlite3.Connection]:
    """The database at ``path`` (created if there is no file there, or migrated to the current
    schema), in WAL mode.

    Raises
    ------
    EmgInputError
        Naming the file: not an athletes' database (another program's, empty, not SQLite),
        from a newer toolkit, read-only (or in a read-only folder), or locked by another
        program.
    """
    path = Path(path)
    try:
        if not path.exists():
            _create(path)
        _refuse_other_file(path)
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
        )
    except OSError as error:
        raise _os_error(error, path) from None
    except sqlite3.DatabaseError as error:
        raise _database_error(error, path) from None
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _refuse_other_database(connection, path)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = WAL")
        _migrate(connection, path)
        yield connection
    except sqlite3.DatabaseError as error:
        raise _database_error(error, path) from None
    finally:
        connection.close()


def _create(path: Path) -> None:
    """A database of the current schema at ``path``: made whole in a scratch file beside it,
    then linked into place (one made there meanwhile by another process is kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(handle)
    scratch = Path(name)
    try:
        connection = sqlite3.connect(scratch, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            _migrate(connection, path)
        finally:
            connection.close()
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process made it first: theirs is as good
        except OSError:  # a file system without hard links (FAT on a stick)
            if not path.exists():
                os.replace(scratch, path)
    finally:
        for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
            leftover.unlink(missing_ok=True)


def refuse_folder(path: str | Path) -> None:
    """Refuse a folder given for the database (naming the database it would hold).

    Raises
    ------
    EmgInputError
        Naming ``path``, when it is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise EmgInputError(
            f"a folder, not an athletes' database (the one in it: {path / DB_NAME})",
            source=str(path),
        )


def _refuse_other_file(path: Path) -> None:
    """Refuse a folder or an empty file at ``path`` (SQLite would take either for a new
    database)."""
    refuse_folder(path)
    if path.stat().st_size == 0:
        raise EmgInputError(
            f"an empty file, not an athletes' database; {_ANOTHER_PATH}", source=str(path)
        )


def _refuse_other_database(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse an SQLite database that is not an athletes' database (before anything is
    written into it): one without :data:`TABLES` or, unless from a newer toolkit, with other
    tables."""
    tables = {
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master "
            "WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
        )
    }
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if not tables:
        what = "an empty SQLite database"
    elif version < 1 or not TABLES <= tables:
        what = f"an SQLite database with other tables ({', '.join(sorted(tables))})"
    elif version <= len(MIGRATIONS) and tables - TABLES:
        what = f"an SQLite database with other tables too ({', '.join(sorted(tables - TABLES))})"
    else:
        return
    raise EmgInputError(f"{what}, not an athletes' database; {_ANOTHER_PATH}", source=str(path))


def _database_error(error: sqlite3.DatabaseError, path: Path) -> EmgInputError:
    """What SQLite's ``error`` means for the database at ``path``, in one line."""
    code = getattr(error, "sqlite_errorname", "")
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        reason = (
            f"locked: another program holds the athletes' database (waited "
            f"{BUSY_TIMEOUT_MS / 1000:g} s); try again when it is done"
        )
    elif code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        folder = _read_only_folder(path)
        where = _read_only_file(path) or (
            f"{folder} is read-only (SQLite keeps its journal beside the file)" if folder else None
        )
        reason = f"cannot write the athletes' database: {where or error}"
    elif code == "SQLITE_NOTADB":
        reason = f"not an athletes' database (not SQLite at all); {_ANOTHER_PATH}"
    elif code.startswith("SQLITE_FULL"):
        reason = "cannot write the athletes' database: the disk is full"
    else:
        reason = f"not a readable athletes' database ({error})"
    return EmgInputError(reason, source=str(path))


def _os_error(error: OSError, path: Path) -> EmgInputError:
    """Why the database at ``path`` could not be created or looked at, in one line."""
    denied = error.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    folder = _read_only_folder(path) if denied else None
    above = next((p for p in path.parents if p.exists()), path.parent)
    if folder:
        where = f"{folder} is read-only"
    elif not above.is_dir():
        where = f"{above} is a file, not a folder"
    else:
        where = error.strerror or str(error)
    return EmgInputError(f"cannot create the athletes' database: {where}", source=str(path))


def _read_only_file(path: Path) -> str | None:
    """Which of the database's files cannot be written, in words (None: none)."""
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and not _writable(file):
            return (
                "the file is read-only" if file == path else f"its journal {file.name} is read-only"
            )
    return None


def _read_only_folder(path: Path) -> str | None:
    """The folder the database is (or would be) in, when it cannot be written (else None)."""
    folder = next((p for p in path.parents if p.exists()), path.parent)
    if _writable(folder):
        return None
    return "its folder" if folder == path.parent else f"the folder {folder}"


def _writable(path: Path) -> bool:
    """Whether ``path`` can be written (its mode too: root may write whatever the mode)."""
    try:
        return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
    except OSError:
        return False


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    if int(connection.execute("PRAGMA user_version").fetchone()[0]) == len(MIGRATIONS):
        return  # up to date: no write lock (a reader need not wait for another's writing)
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise EmgInputError(
                f"schema version {version} is newer than this toolkit's ({len(MIGRATIONS)}); "
                "it was written by a newer emg-toolkit: update this one, or give another --db",
                source=str(path),
            )
        for number in range(version, len(MIGRATIONS)):
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def store_session(connection: sqlite3.Connection, entry: SessionEntry) -> None:
    """Index a session (replacing what was indexed for the same folder), in one transaction.

    Raises
    ------
    EmgInputError
        Naming the session, when it is indexed under another athlete (it stays there).
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        _refuse_other_athlete(connection, entry)
        connection.execute("INSERT OR IGNORE INTO athletes(name) VALUES (?)", (entry.athlete,))
        (athlete_id,) = connection.execute(
            "SELECT id FROM athletes WHERE name = ?", (entry.athlete,)
        ).fetchone()
        connection.execute("DELETE FROM sessions WHERE folder = ?", (entry.folder,))
        cursor = connection.execute(
            "INSERT INTO sessions(athlete_id, folder, date, exercise, sensors, rest_s, mvc_uv, "
            "unit, glute_first_share, median_lead_ms, median_ratio, flags, highest_cramp_risk) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                athlete_id,
                entry.folder,
                entry.date,
                entry.exercise,
                json.dumps(list(entry.sensors)),
                json.dumps(list(entry.rest_s)) if entry.rest_s else None,
                json.dumps(dict(entry.mvc_uv)),
                entry.unit,
                entry.glute_first_share,
                entry.median_lead_ms,
                entry.median_ratio,
                json.dumps(list(entry.flags)),
                entry.highest_cramp_risk,
            ),
        )
        connection.executemany(
            "INSERT INTO reps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    cursor.lastrowid,
                    r.index,
                    r.side,
                    r.lead_ms,
                    r.order,
                    r.ratio,
                    r.glute_level,
                    r.hamstring_level,
                    r.glute_median_frequency_hz,
                    r.hamstring_median_frequency_hz,
                    r.raised_flags,
                    r.cramp_risk,
                )
                for r in entry.reps
            ],
        )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _refuse_other_athlete(connection: sqlite3.Connection, entry: SessionEntry) -> None:
    row = connection.execute(
        "SELECT a.name FROM sessions s JOIN athletes a ON a.id = s.athlete_id WHERE s.folder = ?",
        (entry.folder,),
    ).fetchone()
    if row is not None and row[0] != entry.athlete:
        raise EmgInputError(
            f"already indexed under the athlete '{shown_name(row[0])}': not moved to "
            f"'{shown_name(entry.athlete)}' "
            "(a session stays with the athlete it was first indexed under)",
            source=entry.folder,
        )


def athlete_names(connection: sqlite3.Connection) -> list[str]:
    """Every athlete with a session, by name."""
    rows = connection.execute(
        "SELECT name FROM athletes WHERE id IN (SELECT athlete_id FROM sessions) ORDER BY name"
    )
    return [name for (name,) in rows]


def sessions_of(connection: sqlite3.Connection, athlete: str) -> list[SessionEntry]:
    """An athlete's sessions in date order (then folder), with their reps."""
    sessions = connection.execute(
        "SELECT s.id, s.folder, s.date, s.exercise, s.sensors, s.rest_s, s.mvc_uv, s.unit, "
        "s.glute_first_share, s.median_lead_ms, s.median_ratio, s.flags, s.highest_cramp_risk "
        "FROM sessions s JOIN athletes a ON a.id = s.athlete_id WHERE a.name = ? "
        "ORDER BY s.date, s.folder",
        (athlete,),
    ).fetchall()
    entries = []
    for (
        session_id,
        folder,
        date,
        exercise,
        sensors,
        rest_s,
        mvc_uv,
        unit,
        share,
        lead,
        ratio,
        flags,
        risk,
    ) in sessions:
        reps = connection.execute(
            "SELECT rep, side, lead_ms, rep_order, ratio, glute_level, hamstring_level, "
            "glute_median_frequency_hz, hamstring_median_frequency_hz, raised_flags, cramp_risk "
            "FROM reps WHERE session_id = ? ORDER BY rowid",
            (session_id,),
        ).fetchall()
        rest = json.loads(rest_s) if rest_s else None
        entries.append(
            SessionEntry(
                athlete=athlete,
                folder=folder,
                date=date,
                exercise=exercise,
                sensors=tuple(json.loads(sensors)),
                rest_s=(rest[0], rest[1]) if rest else None,
                mvc_uv=json.loads(mvc_uv),
                unit=unit,
                reps=tuple(RepEntry(*row) for row in reps),
                glute_first_share=share,
                median_lead_ms=lead,
                median_ratio=ratio,
                flags=tuple(json.loads(flags)),
                highest_cramp_risk=risk,
            )
        )
    return entries


def clear(connection: sqlite3.Connection, keep: Collection[str] = ()) -> None:
    """Forget every session but those of the folders or files in ``keep``, and every athlete
    left without one, in one transaction (before a rebuild from the folders)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        kept = set(keep)
        gone = [
            (session_id,)
            for session_id, folder in connection.execute("SELECT id, folder FROM sessions")
            if folder not in kept
        ]
        connection.executemany("DELETE FROM reps WHERE session_id = ?", gone)
        connection.executemany("DELETE FROM sessions WHERE id = ?", gone)
        connection.execute("DELETE FROM athletes WHERE id NOT IN (SELECT athlete_id FROM sessions)")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
