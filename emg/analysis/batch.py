"""A tidy table of every rep across many analysed sessions (pure: no I/O, no Dask).

Each row is one rep of one session, built from the very summary ``emg analyze FILE --json``
prints for that file (:func:`emg.analysis.summary.summarize`), so its numbers are those floats
exactly; the session's subject and set markers come from the recording itself
(:func:`session_info`).

Columns (:data:`COLUMNS`):

=================  =========================================================================
session            the input's path, as given (or as a folder or pattern expanded to it)
subject            ``subject`` of the recording's metadata (native sessions, BIDS, BDF/EDF
                   patient code), else a ``sub-<label>`` part of its path, else empty
exercise           the exercise it was analysed for (recorded, or the option given)
set                from the ``mark`` events ``set N`` (the last one at or before the rep's
                   start); 1 without such markers, and before the first one
side               side of the glute/hamstring pair (empty for a single pair without side)
rep                rep number within its pair, as in the JSON
start_s ...        ``start_s``, ``glute_onset_s``, ``hamstring_onset_s``, ``lead_ms``,
decided_at_s       ``order``, ``ratio`` and ``decided_at_s`` of the rep, as in the JSON
raised_flags       the flags this rep raised, ``;``-separated (empty for none): an order flag
                   (``hamstring-first``, or ``glute-first`` where the hamstrings should lead)
                   raised at its decision, ``hamstring-share`` raised at its completion
cramp_risk         the cramp-risk level of its side once its order was decided (``ok`` /
                   ``watch`` / ``warning``); empty for a rep never decided
=================  =========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import pandas as pd

from emg.analysis.summary_schema import FlagRow, RecruitmentSummary, RepRow, RiskChange
from emg.events import Event

#: Columns of the reps table, in order.
COLUMNS = (
    "session",
    "subject",
    "exercise",
    "set",
    "side",
    "rep",
    "start_s",
    "glute_onset_s",
    "hamstring_onset_s",
    "lead_ms",
    "order",
    "ratio",
    "decided_at_s",
    "raised_flags",  # not "flags": DataFrame.flags is pandas' own attribute
    "cramp_risk",
)

#: Columns of the failures table.
FAILURE_COLUMNS = ("session", "error")

_INTEGER_COLUMNS = ("set", "rep")
#: Text columns, typed as text even when every value is missing (so that Parquet files of
#: different runs share one schema and concatenate).
_TEXT_COLUMNS = ("session", "subject", "exercise", "side", "order", "raised_flags", "cramp_risk")
_FLOAT_COLUMNS = (
    "start_s",
    "glute_onset_s",
    "hamstring_onset_s",
    "lead_ms",
    "ratio",
    "decided_at_s",
)
#: Flags raised when a rep completes (the others when its order is decided).
_COMPLETION_FLAGS = ("hamstring-share",)
_SET_MARK = re.compile(r"\s*set\s+(\d+)\b", flags=re.IGNORECASE)
_SUBJECT_PART = re.compile(r"sub-([A-Za-z0-9]+)")


@dataclass(frozen=True)
class SessionInfo:
    """What the table needs of a recording besides its analysis.

    Attributes
    ----------
    subject
        Subject label, if known.
    sets
        ``(time_s, set number)`` of every set marker, in time order.
    """

    subject: str | None = None
    sets: tuple[tuple[float, int], ...] = ()


@dataclass(frozen=True)
class SessionRows:
    """The rows of one analysed session.

    Attributes
    ----------
    session
        The input, as named in the table.
    rows
        One mapping per rep, keyed by :data:`COLUMNS`.
    """

    session: str
    rows: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SessionFailure:
    """A session that could not be analysed.

    Attributes
    ----------
    session
        The input, as named in the table.
    error
        Why (the message ``emg analyze`` of that file alone would print).
    """

    session: str
    error: str


def set_markers(events: Iterable[Event]) -> tuple[tuple[float, int], ...]:
    """``(time_s, number)`` of the ``mark`` events that start a set (``set N``).

    The number is taken from the event's ``data["set"]`` when it has one, else from its
    description (``set 2``, as BDF+ annotations and ``events.tsv`` keep it).
    """
    found: list[tuple[float, int]] = []
    for event in events:
        if event.kind != "mark":
            continue
        number = event.data.get("set")
        if not isinstance(number, int) or isinstance(number, bool):
            match = _SET_MARK.match(event.description)
            if match is None:
                continue
            number = int(match[1])
        found.append((event.time_s, number))
    return tuple(sorted(found))


def set_of(time_s: float | None, sets: Sequence[tuple[float, int]]) -> int:
    """The set a moment belongs to: the last marker at or before it; 1 before any."""
    number = 1
    if time_s is None:
        return number
    for at, marked in sets:
        if at > time_s:
            break
        number = marked
    return number


def subject_of(metadata: Mapping[str, Any], path: str | PurePath) -> str | None:
    """The recording's ``subject``, else a BIDS-style ``sub-<label>`` in its path, else None."""
    subject = metadata.get("subject")
    if subject is not None and str(subject).strip():
        return str(subject).strip()
    for part in reversed(PurePath(path).parts):
        match = _SUBJECT_PART.match(part)
        if match:
            return match[1]
    return None


def session_info(
    metadata: Mapping[str, Any], events: Iterable[Event], path: str | PurePath
) -> SessionInfo:
    """Subject and set markers of a recording (from its metadata, events and path)."""
    return SessionInfo(subject_of(metadata, path), set_markers(events))


def rep_rows(session: str, summary: RecruitmentSummary, info: SessionInfo) -> list[dict[str, Any]]:
    """One row per rep of an analysis summary.

    Parameters
    ----------
    session
        The name of the session in the table (its path).
    summary
        What :func:`emg.analysis.summary.summarize` returned for it (or the JSON of
        ``emg analyze FILE --json``, parsed).
    info
        Subject and set markers of the recording.

    Returns
    -------
    list of dict
        Keyed by :data:`COLUMNS`, in the summary's rep order (by start, then side).
    """
    exercise = summary["exercise"]["name"]
    rows: list[dict[str, Any]] = []
    for rep in summary["reps"]:
        side = rep["side"]
        decided = rep["decided_at_s"]
        rows.append(
            {
                "session": session,
                "subject": info.subject,
                "exercise": exercise,
                "set": set_of(rep["start_s"], info.sets),
                "side": side,
                "rep": rep["index"],
                "start_s": rep["start_s"],
                "glute_onset_s": rep["glute_onset_s"],
                "hamstring_onset_s": rep["hamstring_onset_s"],
                "lead_ms": rep["lead_ms"],
                "order": rep["order"],
                "ratio": rep["ratio"],
                "decided_at_s": decided,
                "raised_flags": ";".join(_raised_by(rep, summary["flags"])),
                "cramp_risk": _risk_at(decided, side, summary["cramp_risk_timeline"]),
            }
        )
    return rows


def _raised_by(rep: RepRow, flags: Iterable[FlagRow]) -> list[str]:
    """Kinds of the flags ``rep`` raised: same side, naming it, at its decision (order flags)
    or its completion (share flag)."""
    kinds: list[str] = []
    for flag in flags:
        kind = str(flag["kind"])
        if kind.endswith("-cleared") or flag["side"] != rep["side"]:
            continue
        moment = rep["completed_at_s"] if kind in _COMPLETION_FLAGS else rep["decided_at_s"]
        if moment is not None and flag["time_s"] == moment and rep["index"] in flag["reps"]:
            kinds.append(kind)
    return kinds


def _risk_at(time_s: float | None, side: str | None, timeline: Iterable[RiskChange]) -> str | None:
    """The cramp-risk level of ``side`` at ``time_s`` (``ok`` before any change)."""
    if time_s is None:
        return None
    level, since = "ok", float("-inf")
    for change in timeline:
        at = change["time_s"]
        if change["side"] == side and since <= at <= time_s:
            level, since = str(change["level"]), at
    return level


def reps_table(sessions: Iterable[SessionRows]) -> pd.DataFrame:
    """The reps of all sessions, in the order given, as a table with :data:`COLUMNS`.

    ``set`` and ``rep`` are integers, times, lead and ratio floats (NaN where the JSON has
    null), the rest pandas' ``string`` dtype (missing where unknown): the same schema for
    every run, whatever its values.
    """
    rows = [row for session in sessions for row in session.rows]
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    for column in _INTEGER_COLUMNS:
        frame[column] = frame[column].astype("int64")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame[column].astype("float64")
    for column in _TEXT_COLUMNS:
        frame[column] = frame[column].astype("string")
    return frame


def failures_table(failures: Iterable[SessionFailure]) -> pd.DataFrame:
    """The sessions that failed and why, as a table with :data:`FAILURE_COLUMNS`."""
    return pd.DataFrame.from_records(
        [(f.session, f.error) for f in failures], columns=list(FAILURE_COLUMNS)
    )
