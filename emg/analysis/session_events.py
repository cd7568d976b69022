"""What the pipeline made known, as session events (for the recorder, the console and exports)."""

from __future__ import annotations

from emg.analysis.pipeline import PipelineOutput
from emg.analysis.recruitment import CrampRisk, Flag
from emg.analysis.reps import RepEvent
from emg.analysis.summary import rep_summary
from emg.block import Channel
from emg.dsp.onset import Burst, Onset
from emg.dsp.stuck import StuckStretch
from emg.events import Event, EventKind


def pipeline_events(
    output: PipelineOutput, channels: tuple[Channel, ...], sample_rate: float
) -> list[Event]:
    """Turn one pipeline output into events, in the order they were decided.

    Must be called as soon as the output is produced: a rep's details are taken as they are
    at that moment (a decided rep is completed later).

    Parameters
    ----------
    output
        What :meth:`~emg.analysis.pipeline.SessionPipeline.process` returned.
    channels
        The stream's channels.
    sample_rate
        Samples per second.

    Returns
    -------
    list of Event
        Onsets and bursts, stretches a channel gave no signal in (stuck at one value), then
        rep decisions and completions, flags and cramp-risk changes.
    """
    fs = sample_rate
    events = [_chain_event(e, channels, fs) for e in output.chain.events]
    events.extend(no_signal_events(output.chain.stuck_stretches, channels, fs))
    events.extend(_rep_event(e, fs) for e in output.reps)
    events.extend(_flag_event(f, fs) for f in output.flags)
    events.extend(_risk_event(r, fs) for r in output.risks)
    return events


def _chain_event(event: Onset | Burst, channels: tuple[Channel, ...], fs: float) -> Event:
    label = channels[event.channel].label
    if isinstance(event, Onset):
        return Event(
            event.index / fs,
            "onset",
            label,
            channel=label,
            data={"sample": event.index, "decided_at_s": event.decided / fs},
        )
    return Event(
        event.onset / fs,
        "burst",
        label,
        (event.offset - event.onset) / fs,
        channel=label,
        data={
            "onset": event.onset,
            "offset": event.offset,
            "peak_uv": round(event.peak, 3),
            "complete": event.complete,
            "decided_at_s": event.decided / fs,
        },
    )


def no_signal_events(
    stretches: list[StuckStretch], channels: tuple[Channel, ...], fs: float
) -> list[Event]:
    """A ``no-signal`` event per stretch a channel stayed at one value (described as a
    ``loss`` is, ``LABEL N samples``, which a BDF+ annotation keeps whole)."""
    events = []
    for stretch in stretches:
        label = channels[stretch.channel].label
        events.append(
            Event(
                stretch.start / fs,
                "no-signal",
                f"{label} {stretch.stop - stretch.start} samples",
                (stretch.stop - stretch.start) / fs,
                channel=label,
                data={"start": stretch.start, "stop": stretch.stop},
            )
        )
    return events


def _side(side: str | None) -> str:
    return f" {side}" if side else ""


def _rep_event(event: RepEvent, fs: float) -> Event:
    rep = event.rep
    data = rep_summary(rep, fs)
    if event.kind == "decided":
        lead = f" {rep.lead_ms:+.0f} ms" if rep.lead_ms is not None else ""
        return Event(
            event.at / fs,
            "rep-decided",
            f"{rep.index}{_side(rep.side)} {rep.order or 'order unknown'}{lead}",
            data=data,
        )
    if event.kind == "completed":
        ratio = f" ratio {rep.ratio:.2f}" if rep.ratio is not None else ""
        end = rep.end if rep.end is not None else event.at
        return Event(
            rep.start / fs,
            "rep",
            f"{rep.index}{_side(rep.side)}{ratio}",
            (end - rep.start) / fs,
            data=data,
        )
    return Event(
        event.at / fs,
        "sustained",
        f"hamstring {event.seconds:.1f} s rep {rep.index}{_side(rep.side)}",
        data={**data, "seconds": event.seconds},
    )


def _flag_event(flag: Flag, fs: float) -> Event:
    kind: EventKind = "flag" if flag.raised else "flag-cleared"
    name = flag.kind.removesuffix("-cleared")
    reps = ",".join(str(r) for r in flag.reps)
    return Event(
        flag.at / fs,
        kind,
        f"{name} reps {reps}{_side(flag.side)}",
        data={"flag": name, "reps": list(flag.reps), "side": flag.side},
    )


def _risk_event(risk: CrampRisk, fs: float) -> Event:
    return Event(
        risk.at / fs,
        "cramp-risk",
        f"{risk.level}{_side(risk.side)}",
        data={
            "level": risk.level,
            "reasons": list(risk.reasons),
            "codes": list(risk.codes),
            "side": risk.side,
        },
    )


#: Event kinds that carry the outcome of the analysis.
OUTCOME_KINDS = ("rep-decided", "rep", "sustained", "flag", "flag-cleared", "cramp-risk")


def outcome_in_full(events: list[Event]) -> bool:
    """Whether ``events`` carry the analysis outcome with its details (a rep's order, lead
    and ratio ...): events read back from BDF+ annotations keep only their kind, time and
    short description, so a replay cannot be compared with them."""
    return all(event.data for event in events if event.kind in OUTCOME_KINDS)


def outcome(events: list[Event]) -> list[tuple[object, ...]]:
    """The analysis outcome in ``events``: every rep decision and completion (with its times,
    order, lead and ratio), flag and cramp-risk change, sorted by time.

    Two runs of the same analysis on the same samples have equal outcomes, whatever their
    block sizes (which only change the order in which events of one block are listed); used
    to check a replay against the live run that recorded the session.
    """
    keys: list[tuple[object, ...]] = []
    for event in events:
        if event.kind not in OUTCOME_KINDS:
            continue
        data = event.data
        detail = tuple(
            data.get(k)
            for k in ("index", "side", "order", "lead_ms", "ratio", "decided_at_s", "level")
        )
        reps = tuple(data.get("reps", ()))
        keys.append((round(event.time_s, 6), event.kind, event.description, detail, reps))
    return sorted(keys, key=repr)
