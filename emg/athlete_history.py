"""An athlete's sessions across days: indexing a session, rebuilding the index from the session
folders, and reading an athlete's history back (the library's calls; the commands map their
options to these).

A session is indexed with exactly the numbers ``emg analyze`` gives for it: a recorded session
is analysed with the settings it was recorded with
(:func:`emg.settings_resolution.resolve_settings`), and ``emg analyze FILE --athlete NAME``
indexes the analysis it printed. The database sits beside the recordings (:func:`default_db`);
the session folders, which keep the athlete's name in ``session.json``, stay the source of
truth.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from emg.analysis.history import (
    SessionEntry,
    Trend,
    personal_band,
    sensor_names,
    session_entry,
    trend,
)
from emg.analysis.offline import analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.summary import summarize
from emg.analysis.summary_schema import SessionSummary
from emg.athlete_db import DB_NAME, athlete_names, clear, open_db, sessions_of, store_session
from emg.athlete_name_text import athlete_name, shown_name
from emg.errors import EmgInputError
from emg.io.open_recording import open_recording
from emg.recording import Recording
from emg.settings_resolution import SettingOverrides, resolve_settings

#: Where recordings go by default (``emg record --out``), hence the default database.
DEFAULT_RECORDINGS = Path("recordings")

#: Columns of :func:`history_table`.
HISTORY_COLUMNS = (
    "date",
    "exercise",
    "reps",
    "glute_first_share",
    "median_lead_ms",
    "median_ratio",
    "flags",
    "highest_cramp_risk",
    "folder",
)


def default_db(path: str | Path) -> Path:
    """The database beside a recording: in the folder that holds the session folder (or the
    file)."""
    location = Path(path).resolve()
    if location.name == "session.json":
        location = location.parent
    return location.parent / DB_NAME


@dataclass(frozen=True)
class ReusedMvc:
    """MVC references taken from an earlier session.

    Attributes
    ----------
    mvc_uv
        Per muscle group, µV.
    date
        When that session was recorded (ISO 8601), if known.
    folder
        Where it is.
    """

    mvc_uv: Mapping[str, float]
    date: str | None
    folder: str


def athlete_settings(
    config: AnalysisConfig,
    athlete: str,
    db: str | Path,
    *,
    sensors: tuple[str, ...],
    before: str | None = None,
    folder: str | Path | None = None,
    reuse_mvc: bool = False,
) -> tuple[AnalysisConfig, ReusedMvc | None]:
    """The settings of an athlete's session, from their sessions before it (read once).

    - Their own band (:func:`emg.analysis.history.personal_band` over the earlier sessions
      of ``config``'s exercise). A band already in ``config`` (a recorded session's) is kept,
      so a session replays and re-indexes to what it recorded; without enough earlier
      glute-first reps there is none, and no ``outside-own-band`` flag.
    - With ``reuse_mvc`` and no MVC in ``config``: the MVC of the latest earlier session
      recorded with the same sensors (the same placement, as far as the toolkit can tell).

    Parameters
    ----------
    config
        The resolved settings.
    athlete
        Whose session.
    db
        The athletes' database (none there yet: nothing to take).
    sensors
        The session's sensors (:func:`emg.analysis.history.sensor_names`).
    before
        Only sessions recorded before this time (ISO 8601); None: all.
    folder
        The session itself (where it is indexed): never part of its own reference.
    reuse_mvc
        Whether to take an earlier session's MVC.

    Returns
    -------
    config, reused
        The settings, and where a reused MVC came from (None when none was).
    """
    wants_band = config.band is None
    wants_mvc = reuse_mvc and not config.normalisation.mvc_uv
    if not (wants_band or wants_mvc) or not Path(db).is_file():
        return config, None
    own = None if folder is None else str(_location(folder))
    with open_db(db) as connection:
        earlier = [
            e
            for e in sessions_of(connection, athlete_name(athlete))
            if e.folder != own and _earlier(e.date, before)
        ]
    band = personal_band(earlier, config.exercise.name) if wants_band else None
    if band is not None:
        config = dataclasses.replace(config, band=band)
    same = [e for e in earlier if e.mvc_uv and tuple(e.sensors) == tuple(sensors)]
    if not (wants_mvc and same):
        return config, None
    latest = same[-1]  # in date order
    normalisation = dataclasses.replace(config.normalisation, mvc_uv=dict(latest.mvc_uv))
    reused = ReusedMvc(dict(latest.mvc_uv), latest.date, latest.folder)
    return dataclasses.replace(config, normalisation=normalisation), reused


def recording_settings(
    config: AnalysisConfig,
    athlete: str,
    recording: Recording,
    path: str | Path,
    db: str | Path | None = None,
    reuse_mvc: bool = False,
) -> tuple[AnalysisConfig, ReusedMvc | None]:
    """:func:`athlete_settings` for a recording on disk: the sessions before its start, its
    sensors, the database beside it (None)."""
    started = recording.metadata.get("started_at")
    return athlete_settings(
        config,
        athlete,
        db if db is not None else default_db(path),
        sensors=sensor_names(recording.metadata, [c.label for c in recording.channels]),
        before=str(started) if started else None,
        folder=path,
        reuse_mvc=reuse_mvc,
    )


def _earlier(date: str | None, before: str | None) -> bool:
    """Whether a session of ``date`` was before ``before`` (unknown dates count as earlier)."""
    if date is None or before is None:
        return True
    try:
        return datetime.fromisoformat(date) < datetime.fromisoformat(before)
    except (TypeError, ValueError):
        return date < before


def session_location(path: str | Path) -> Path:
    """Where a session is, as the history names it: its folder (for ``session.json`` too),
    or the file, absolute."""
    return _location(path)


def _location(path: str | Path) -> Path:
    location = Path(path).resolve()
    return location.parent if location.name == "session.json" else location


def index_session(
    summary: SessionSummary,
    recording: Recording,
    athlete: str,
    path: str | Path,
    db: str | Path | None = None,
) -> SessionEntry:
    """Index an analysed session under ``athlete``.

    Parameters
    ----------
    summary
        Its analysis, as ``emg analyze`` gives it.
    recording
        The recording analysed (for its date, sensors and calibration).
    athlete
        Whose session it is.
    path
        Where the session is (its folder, or the file).
    db
        The database; None: :func:`default_db` of ``path``.

    Returns
    -------
    SessionEntry
        What was indexed.

    Raises
    ------
    EmgInputError
        Naming the session, when it is indexed under another athlete (it stays there); naming
        the database, when it cannot be opened or written.
    """
    location = _location(path)
    entry = session_entry(summary, athlete_name(athlete), str(location), recording.metadata)
    with open_db(db or default_db(location)) as connection:
        store_session(connection, entry)
    return entry


def index_recording(path: str | Path, athlete: str, db: str | Path | None = None) -> SessionEntry:
    """Analyse a recording as ``emg analyze PATH`` does and index it under ``athlete``."""
    recording = open_recording(Path(path))
    summary = summarize(
        analyze_recording(recording, resolve_settings(recording, SettingOverrides())), recording
    )
    return index_session(summary, recording, athlete, path, db)


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did.

    Attributes
    ----------
    indexed
        The session folders analysed again and indexed.
    failed
        Each session folder that could not be, with its one-line reason.
    kept_earlier
        The folders of :attr:`failed` that had been indexed before: their earlier entries
        are kept as they were (a folder that cannot be read today loses nothing it had).
    kept
        The sessions kept as they were indexed: files (``emg analyze set.csv --athlete``) and
        folders whose ``session.json`` names no athlete or which are not below the database.
    dropped
        Each session that is no longer where it was indexed, with its athlete.
    copies
        Each session indexed elsewhere that is the same session (athlete, start and folder
        name) as one indexed from the folders here, with that one's folder: a copy of the
        recordings, whose database still named the originals. It is dropped, so that no
        session counts twice.
    """

    indexed: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    kept_earlier: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    dropped: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    copies: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def rebuild(db: str | Path) -> Rebuilt:
    """Recreate the database from the session folders beside it (and below).

    Every folder with a ``session.json`` that names an ``athlete`` is analysed again, as
    ``emg analyze FOLDER`` would. A session indexed otherwise (a file, ``emg analyze set.csv
    --athlete``; a folder indexed under an athlete its record does not name, or kept
    elsewhere) is known to the database alone: it is kept as indexed while it is still
    there, and dropped (and listed in :attr:`Rebuilt.dropped`) once it is not. A folder that
    fails to be analysed again keeps the entry it had (:attr:`Rebuilt.kept_earlier`).

    Returns
    -------
    Rebuilt
        The folders indexed, each folder that failed with its one-line reason, the sessions
        kept and those dropped.
    """
    db = Path(db)
    recorded = _recorded_sessions(db.parent)
    again = {str(_location(folder)) for folder, _ in recorded}
    with open_db(db) as connection:
        before = [e for name in athlete_names(connection) for e in sessions_of(connection, name)]
        others = [e for e in before if e.folder not in again]
        kept = tuple(e.folder for e in others if Path(e.folder).exists())
        clear(connection, keep=kept)
    earlier = {e.folder: e for e in before if e.folder in again}
    indexed, failed, kept_earlier = [], [], []
    moved: dict[tuple[str, str | None, str], str] = {}
    for folder, athlete in recorded:
        try:
            entry = index_recording(folder, athlete, db)
        except EmgInputError as error:
            failed.append((str(folder), str(error)))
            previous = earlier.get(str(_location(folder)))
            if previous is not None:
                with open_db(db) as connection:
                    store_session(connection, previous)
                kept_earlier.append(previous.folder)
            continue
        indexed.append(str(folder))
        if entry.date:  # a folder moved: the same session (athlete, start, name) elsewhere
            moved[(entry.athlete, entry.date, Path(entry.folder).name)] = entry.folder
    dropped = tuple(
        (e.folder, e.athlete)
        for e in others
        if e.folder not in kept and (e.athlete, e.date, Path(e.folder).name) not in moved
    )
    copies = tuple(
        (e.folder, moved[key])
        for e in others
        if e.folder in kept and (key := (e.athlete, e.date, Path(e.folder).name)) in moved
    )
    if copies:
        stale = {folder for folder, _ in copies}
        with open_db(db) as connection:
            every = {
                e.folder
                for name in athlete_names(connection)
                for e in sessions_of(connection, name)
            }
            clear(connection, keep=every - stale)
        kept = tuple(f for f in kept if f not in stale)
    return Rebuilt(tuple(indexed), tuple(failed), tuple(kept_earlier), kept, dropped, copies)


def _recorded_sessions(parent: Path) -> list[tuple[Path, str]]:
    """Each session folder below ``parent`` whose ``session.json`` names its athlete, with
    the athlete."""
    recorded = []
    for description in sorted(parent.rglob("session.json")):
        athlete = _recorded_athlete(description)
        if athlete is not None:
            recorded.append((description.parent, athlete))
    return recorded


def _recorded_athlete(description: Path) -> str | None:
    try:
        values: Any = json.loads(description.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a folder the rebuild cannot read is not an athlete's session
    athlete = values.get("athlete") if isinstance(values, Mapping) else None
    return str(athlete) if athlete else None


def athletes(db: str | Path) -> list[str]:
    """The athletes with a session in the database."""
    with open_db(db) as connection:
        return athlete_names(connection)


def history(athlete: str, db: str | Path) -> list[SessionEntry]:
    """An athlete's sessions, in date order.

    Raises
    ------
    EmgInputError
        For an athlete without a session (naming the ones there are).
    """
    name = athlete_name(athlete)
    with open_db(db) as connection:
        entries = sessions_of(connection, name)
        known = athlete_names(connection)
        if not entries:  # a name kept with control characters, given as it is printed
            stored = next((k for k in known if k != name and shown_name(k) == name), None)
            entries = [] if stored is None else sessions_of(connection, stored)
        if not entries:
            listed = ", ".join(shown_name(k) for k in known) or "none yet"
            raise EmgInputError(
                f"no sessions of '{shown_name(name)}'; athletes: {listed}", source=str(db)
            )
    return entries


def flag_counts(flags: Sequence[str]) -> str:
    """The kinds of flags raised in a session, each once with how often when more than once.

    Examples
    --------
    >>> flag_counts(["outside-own-band"] * 3 + ["hamstring-first"])
    'outside-own-band x3;hamstring-first'
    >>> flag_counts([])
    ''
    """
    counts = Counter(flags)
    return ";".join(f"{kind} x{n}" if n > 1 else kind for kind, n in counts.items())


def history_table(entries: list[SessionEntry]) -> pd.DataFrame:
    """One row per session (:data:`HISTORY_COLUMNS`)."""
    return pd.DataFrame(
        [
            {
                "date": e.date,
                "exercise": e.exercise,
                "reps": len(e.reps),
                "glute_first_share": e.glute_first_share,
                "median_lead_ms": e.median_lead_ms,
                "median_ratio": e.median_ratio,
                "flags": flag_counts(e.flags),
                "highest_cramp_risk": e.highest_cramp_risk,
                "folder": e.folder,
            }
            for e in entries
        ],
        columns=list(HISTORY_COLUMNS),
    )


def history_trend(entries: list[SessionEntry]) -> Trend:
    """The change from the athlete's first session to the last, of the last one's
    exercise."""
    return trend(entries)
