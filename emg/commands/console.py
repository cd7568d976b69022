"""Console lines for a live or replayed session: one per rep, and flags as they happen."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from emg.analysis.summary import onset_notes
from emg.events import Event
from emg.session import LiveSession
from emg.wording import NO_SIGNAL_ENDED, count, rep_count

#: What the athlete should do when the hamstrings lead.
CUE = "start the rep from the glutes"


def event_line(event: Event) -> str | None:
    """The console line for an event, or None for events not shown (onsets, losses ...)."""
    data = event.data
    side = f" ({data['side']})" if data.get("side") else ""
    if event.kind == "rep":
        lead = data.get("lead_ms")
        ratio = data.get("ratio")
        notes = onset_notes(data)
        return (
            f"rep {data['index']:>3}{side:<8} {data.get('order') or 'unknown':<16} "
            + (f"lead {lead:+5.0f} ms" if lead is not None else f"{'lead    -':<13}")
            + "  "
            + (f"ratio {ratio:5.2f}" if ratio is not None else "ratio     -")
            + f"  at {event.time_s:6.2f} s"
            + (f"  ({'; '.join(notes)})" if notes else "")
        )
    if event.kind == "flag":
        reps = ", ".join(str(r) for r in data.get("reps", []))
        if data.get("flag") == "hamstring-first":
            what = f"hamstrings are leading (reps {reps}): {CUE}"
        elif data.get("flag") == "hamstring-share":
            what = f"hamstring share is rising (reps {reps}): {CUE}"
        else:
            what = f"{data.get('flag')} (reps {reps})"
        return f"!! {event.time_s:6.2f} s{side}: {what}"
    if event.kind == "flag-cleared":
        return f"   {event.time_s:6.2f} s{side}: {data.get('flag')} flag cleared"
    if event.kind == "cramp-risk":
        reasons = "; ".join(data.get("reasons", []))
        return f"   {event.time_s:6.2f} s{side}: cramp risk {data.get('level')}" + (
            f" - {reasons}" if reasons else ""
        )
    if event.kind == "no-signal":
        stop = event.time_s + event.duration_s
        what = NO_SIGNAL_ENDED.format(channel=event.channel, start=event.time_s, stop=stop)
        return f"-- {stop:6.2f} s: {what}"
    if event.kind in ("disconnect", "reconnect", "mark"):
        return f"   {event.time_s:6.2f} s: {event.kind} {event.description}"
    return None


def stopped_line(
    stopped_by: str,
    seconds: float,
    rep_sides: Sequence[str | None],
    counts: Mapping[str, int],
    sides: Sequence[str | None] = (),
) -> str:
    """The line a live run or a replay ends with: why it stopped, after how long, and how
    many reps (:func:`~emg.wording.rep_count` of their sides, of the set's ``sides``) and
    flags it found.

    Examples
    --------
    >>> stopped_line("duration", 8.0, [None], {"rep": 1, "flag": 0})
    'stopped (duration) after 8.0 s: 1 rep, 0 flags'
    >>> stopped_line("end of source", 17.0, ["left", "right"] * 4, {"rep": 8, "flag": 2})
    'stopped (end of source) after 17.0 s: 4 reps a side, 2 flags'
    """
    return (
        f"stopped ({stopped_by}) after {seconds:.1f} s: {rep_count(rep_sides, sides)}, "
        f"{count(counts.get('flag', 0), 'flag')}"
    )


def session_stopped_line(stopped_by: str, session: LiveSession) -> str:
    """:func:`stopped_line` of a live session: its length, its reps on the sides of its
    glute/hamstring pairs, its flags."""
    return stopped_line(
        stopped_by,
        session.n_samples / session.sample_rate,
        session.rep_sides,
        session.counts,
        [pair.side for pair in session.pipeline.pairs],
    )


def console_listener(stream: TextIO | None = None) -> Callable[[list[Event]], None]:
    """A session listener printing :func:`event_line` of each event, flushed at once.

    The cramp risk is printed when its level changes, not each time its reasons do. A flag is
    decided with the order of the rep that raised it, before that rep has ended; its line
    waits for that rep's line, so the terminal reads in order.
    """
    levels: dict[object, object] = {}
    printed: dict[object, int] = {}  # last rep printed, per side
    waiting: list[Event] = []

    def due(event: Event) -> bool:
        reps = event.data.get("reps") or [0]
        return printed.get(event.data.get("side"), 0) >= max(int(r) for r in reps)

    def listen(events: list[Event]) -> None:
        out = stream or sys.stdout
        for event in events:
            if event.kind == "cramp-risk":
                side, level = event.data.get("side"), event.data.get("level")
                if levels.get(side, "ok") == level:
                    continue
                levels[side] = level
            if event.kind == "flag" and not due(event):
                waiting.append(event)
                continue
            line = event_line(event)
            if line is not None:
                print(line, file=out, flush=True)
            if event.kind == "rep":
                side = event.data.get("side")
                printed[side] = max(printed.get(side, 0), int(event.data.get("index", 0)))
                for flag in [f for f in waiting if due(f)]:
                    waiting.remove(flag)
                    print(event_line(flag), file=out, flush=True)

    return listen
