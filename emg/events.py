"""Session events: what happened when, in stream time, as recorded, exported and replayed.

An event is a moment (or an interval) in a recording: a muscle's onset, a rep and its order, a
flag, a change of cramp risk, a lost packet, a sensor disconnect, a set marker. Times are
seconds from the first sample of the recording. Every format keeps the time, duration, kind
and a short description (at most :data:`ANNOTATION_CHARS` characters, the EDF+/BDF+
annotation limit of common writers); the native format and BIDS ``events.tsv`` also keep the
full detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

#: What an event is about.
EventKind = Literal[
    "onset",
    "burst",
    "rep-decided",
    "rep",
    "sustained",
    "flag",
    "flag-cleared",
    "cramp-risk",
    "loss",
    "no-signal",
    "disconnect",
    "reconnect",
    "mark",
    "battery",
    "calibration",
    "other",
]

#: Event kinds and what they mean (documented in ``recordings/README.md``).
EVENT_KINDS: dict[EventKind, str] = {
    "onset": "a muscle switched on (confirmed by the detector)",
    "burst": "a muscle's burst of activity, onset to offset",
    "rep-decided": "the onset order of a rep was decided",
    "rep": "a rep completed: onsets, lead, order, ratio, levels",
    "sustained": "hamstring activity still on after the glutes relaxed",
    "flag": "a flag was raised",
    "flag-cleared": "a flag was lowered",
    "cramp-risk": "the cramp-risk level changed",
    "loss": "samples lost in transit (filled with 0), per channel",
    "no-signal": "a channel's samples stayed at one value (electrode off, lead unplugged or "
    "sensor frozen), per channel: not recorded from its 50th ms on",
    "disconnect": "a sensor stopped delivering data",
    "reconnect": "a sensor delivers data again",
    "mark": "a marker set by the user (e.g. start of a set)",
    "battery": "a sensor's battery level, in percent",
    "calibration": "a calibration step (rest or MVC)",
    "other": "an event from another tool",
}


def event_kind(text: str) -> EventKind | None:
    """``text`` as an event kind, or None when it is not one of :data:`EVENT_KINDS`."""
    for kind in get_args(EventKind):
        if kind == text:
            return kind  # type: ignore[no-any-return]
    return None


#: The columns a table of events gives the reps' numbers in (BIDS ``events.tsv``, CSV): rep
#: number, side, order, lead (ms) and glute : hamstring ratio; empty for other events.
REP_COLUMNS = ("rep", "side", "order", "lead_ms", "ratio")
#: Event kinds whose detail is a rep's.
REP_KINDS = ("rep", "rep-decided", "sustained")


def rep_columns(event: Event) -> dict[str, Any]:
    """The :data:`REP_COLUMNS` of ``event``: from its detail for a rep event, else None."""
    if event.kind not in REP_KINDS:
        return dict.fromkeys(REP_COLUMNS)
    data = event.data
    return {
        "rep": data.get("index"),
        "side": data.get("side"),
        "order": data.get("order"),
        "lead_ms": data.get("lead_ms"),
        "ratio": data.get("ratio"),
    }


#: Longest description every BDF+/EDF+ writer keeps.
ANNOTATION_CHARS = 40


@dataclass(frozen=True)
class Event:
    """Something that happened in a recording.

    Attributes
    ----------
    time_s
        Seconds from the first sample of the recording.
    kind
        One of :data:`EVENT_KINDS`.
    description
        Short human-readable text without the kind, e.g. ``"3 hamstring-first -90 ms"``.
    duration_s
        Length of the interval it covers (0 for a moment).
    channel
        Channel label it concerns, if any.
    data
        Full detail as plain JSON-ready data (rep numbers, lead, ratio, sample ranges ...).
    """

    time_s: float
    kind: EventKind
    description: str = ""
    duration_s: float = 0.0
    channel: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind '{self.kind}' (known: {', '.join(EVENT_KINDS)})")
        if not np.isfinite(self.time_s) or not np.isfinite(self.duration_s):
            raise ValueError(f"event time and duration must be finite, got {self}")
        if self.duration_s < 0:
            raise ValueError(f"event duration must not be negative, got {self.duration_s}")
        if self.kind == "loss":
            loss_range(self)

    @property
    def annotation(self) -> str:
        """Kind and description in at most :data:`ANNOTATION_CHARS` characters."""
        text = f"{self.kind} {self.description}".strip()
        return text[:ANNOTATION_CHARS]

    @classmethod
    def from_annotation(cls, time_s: float, duration_s: float, text: str) -> Event:
        """Rebuild an event from an annotation written by :attr:`annotation`.

        Annotations from other tools become kind ``other`` with their text as description.
        """
        kind, _, rest = text.strip().partition(" ")
        if kind in EVENT_KINDS:
            return cls(time_s, kind, rest.strip(), max(0.0, duration_s))
        return cls(time_s, "other", text.strip(), max(0.0, duration_s))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "time_s": self.time_s,
            "kind": self.kind,
            "description": self.description,
            "duration_s": self.duration_s,
            "channel": self.channel,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Event:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        KeyError, ValueError, TypeError
            For a missing field or a value of the wrong kind.
        """
        return cls(
            time_s=float(values["time_s"]),
            kind=_known_kind(str(values["kind"])),
            description=str(values.get("description", "")),
            duration_s=float(values.get("duration_s", 0.0)),
            channel=None if values.get("channel") is None else str(values["channel"]),
            data=dict(values.get("data") or {}),
        )


def loss_events(
    lost: npt.NDArray[np.bool_], labels: Iterable[str], sample_rate: float, offset: int = 0
) -> list[Event]:
    """One ``loss`` event per run of lost samples per channel.

    Parameters
    ----------
    lost
        Boolean mask ``(n_samples, n_channels)``.
    labels
        Channel labels, one per column.
    sample_rate
        Samples per second.
    offset
        Index of the mask's first row in the whole recording.

    Returns
    -------
    list of Event
        In time order, each with ``data = {"start": first, "stop": one past last}`` in samples.
    """
    events: list[Event] = []
    for column, label in enumerate(labels):
        for start, stop in _runs(lost[:, column]):
            first, last = start + offset, stop + offset
            events.append(
                Event(
                    first / sample_rate,
                    "loss",
                    f"{label} {last - first} samples",
                    (last - first) / sample_rate,
                    channel=label,
                    data={"start": first, "stop": last},
                )
            )
    events.sort(key=lambda e: (e.time_s, e.channel or ""))
    return events


def loss_range(event: Event) -> tuple[int, int] | None:
    """The sample range ``(start, stop)`` a ``loss`` event's data gives, if it gives one.

    Raises
    ------
    ValueError
        Naming the field (``data.start`` or ``data.stop``) when it is not a whole sample
        index, or when the range ends before it starts.
    """
    found = [_sample_index(event.data, key) for key in ("start", "stop")]
    if found[0] is None or found[1] is None:
        return None
    start, stop = found[0], found[1]
    if stop < start:
        raise ValueError(f"loss event field 'data.stop' ({stop}) is before 'data.start' ({start})")
    return start, stop


def _sample_index(data: Mapping[str, Any], key: str) -> int | None:
    if key not in data:
        return None
    value = data[key]
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        raise ValueError(
            f"loss event field 'data.{key}' must be a whole sample index, got {value!r}"
        )
    return int(value)


def loss_mask(
    events: Iterable[Event], labels: list[str], sample_rate: float, n_samples: int
) -> npt.NDArray[np.bool_]:
    """The loss mask described by ``loss`` events (the inverse of :func:`loss_events`).

    Events without sample ranges (from annotations) are placed by their time and duration.
    Events of unknown channels, or without a channel, mark every channel.

    Raises
    ------
    ValueError
        For a sample range that is not whole sample indices (see :func:`loss_range`).
    """
    mask = np.zeros((n_samples, len(labels)), dtype=bool)
    for event in events:
        if event.kind != "loss":
            continue
        samples = loss_range(event)
        if samples is not None:
            start, stop = samples
        else:
            start = round(event.time_s * sample_rate)
            stop = start + round(event.duration_s * sample_rate)
        channel = event.channel or event.description.partition(" ")[0]
        columns = [labels.index(channel)] if channel in labels else list(range(len(labels)))
        mask[max(0, start) : max(0, stop), columns] = True
    return mask


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of True."""
    if not flags.any():
        return []
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _known_kind(text: str) -> EventKind:
    kind = event_kind(text)
    if kind is None:
        raise ValueError(f"unknown event kind '{text}' (known: {', '.join(EVENT_KINDS)})")
    return kind
