"""The athletes' history: an embedded SQLite database of sessions and their reps.

The session folders stay the source of truth; the database is an index of them that
``emg history --rebuild`` recreates. It lives beside the recordings (``athletes.sqlite``). WAL
journaling lets two recordings on one machine (two athletes at two stations) write at once,
each waiting for the other's short transaction; a recording killed mid-write leaves the
database as it was before that transaction. The schema carries its version
(``PRAGMA user_version``) and is brought up to date by :data:`MIGRATIONS` on opening.

Names are personal data: they stay in this file, on this computer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emg.analysis.history import RepEntry, SessionEntry
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


@contextmanager
def open_db(path: str | Path) -> Iterator[sqlite3.Connection]:
    """The database at ``path`` (created, or migrated to the current schema), in WAL mode.

    Raises
    ------
    EmgInputError
        Naming the file: not an SQLite database, from a newer toolkit, or not writable.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.Error) as error:
        raise EmgInputError(
            f"cannot open the athletes' database ({error})", source=str(path)
        ) from None
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode = WAL")
        _migrate(connection, path)
        yield connection
    except sqlite3.DatabaseError as error:
        raise EmgInputError(
            f"not a readable athletes' database ({error})", source=str(path)
        ) from None
    finally:
        connection.close()


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise EmgInputError(
                f"schema version {version} is newer than this toolkit's ({len(MIGRATIONS)}); "
                "update emg-toolkit or rebuild the database with emg history --rebuild",
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
    """Index a session (replacing what was indexed for the same folder), in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
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


def clear(connection: sqlite3.Connection) -> None:
    """Forget every session and athlete (before a rebuild from the folders)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute("DELETE FROM reps")
        connection.execute("DELETE FROM sessions")
        connection.execute("DELETE FROM athletes")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
