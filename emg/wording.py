"""The words an athlete or coach reads: warnings, rep labels, remedies and prompts.

The live window, the report and the guided calibration share them from here, so a warning
reads the same mid-set and afterwards. Plain data and string formatting only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

#: Banner text per raised flag (the words an athlete reads mid-set).
BANNER_TEXT = {
    "hamstring-first": "Hamstrings are leading — start the rep from the glutes",
    "glute-first": "Glutes are leading — this exercise expects the hamstrings first",
    "hamstring-share": "Hamstrings are taking over the work — drive with the glutes",
    "outside-own-band": "Outside your usual pattern",
}
#: What the cramp risk is and is not, wherever it is shown.
DISCLAIMER = (
    "A training aid, not a diagnosis: it shows how the muscles were recruited, and cannot "
    "tell whether a cramp will happen."
)
#: Banner text while a channel's samples stay at one value (its reps are not judged).
NO_SIGNAL_BANNER = "No signal from {channel}: stuck at one value — check its electrode and lead"
#: Console line once such a stretch has ended (a headless recording's word of it).
NO_SIGNAL_ENDED = (
    "{channel} gave no signal {start:.2f}-{stop:.2f} s (stuck at one value): check its "
    "electrode and lead"
)
#: What a stretch in which a channel's samples stayed at one value means for the analysis.
STUCK_MEANING = (
    "no signal there (electrode off, lead unplugged or sensor frozen); reps whose onsets fall "
    "in it are not judged"
)
#: Wording shown with the cramp risk: a training aid, not a diagnosis.
RISK_NOTE = "training aid, not a diagnosis"


def count(n: int, noun: str) -> str:
    """``n noun``, the noun in the plural unless ``n`` is 1.

    Examples
    --------
    >>> count(1, "rep"), count(0, "flag")
    ('1 rep', '0 flags')
    """
    return f"{n} {noun}" + ("" if n == 1 else "s")


def rep_count(rep_sides: Iterable[str | None], sides: Sequence[str | None] = ()) -> str:
    """How many reps a set has, from each rep's side (None in a set of one side).

    A set of both sides counts its reps per side (each side's reps are the athlete's reps),
    a side without any too.

    Parameters
    ----------
    rep_sides
        Each rep's side.
    sides
        The set's sides (its glute/hamstring pairs'); by default those of the reps.

    Examples
    --------
    >>> rep_count([None] * 8), rep_count([None])
    ('8 reps', '1 rep')
    >>> rep_count(["left", "right"] * 4), rep_count(["left"] * 4 + ["right"] * 3)
    ('4 reps a side', '4 reps left, 3 right')
    >>> rep_count(["left"] * 4, sides=["left", "right"])
    '4 reps left, 0 right'
    """
    per_side = Counter(rep_sides)
    named = [s for s in sides if s] or sorted(s for s in per_side if s)
    total = sum(per_side.values())
    if len(named) < 2:
        return count(total, "rep")
    counts = [per_side.get(side, 0) for side in named]
    first = count(counts[0], "rep")
    if len(set(counts)) == 1:
        return f"{first} a side"
    return f"{first} {named[0]}, " + ", ".join(
        f"{n} {side}" for n, side in zip(counts[1:], named[1:], strict=True)
    )


def rep_label(
    order: str | None,
    lead_ms: float | None,
    side: str | None = None,
    not_recorded: Sequence[str] = (),
) -> str:
    """Who led a rep and by how much, e.g. ``"glutes first by 92 ms"``.

    Parameters
    ----------
    order
        The rep's order (``glute-first``, ``hamstring-first``, ``simultaneous``), None while
        it is undecided.
    lead_ms
        Hamstring onset minus glute onset, milliseconds.
    side
        ``left`` or ``right`` when the session has both sides.
    not_recorded
        Muscles whose samples were lost in the rep (its order then stays unknown).

    Returns
    -------
    str
        The label of the rep's tile.
    """
    suffix = f" ({side})" if side else ""
    if order in ("glute-first", "hamstring-first") and lead_ms is not None:
        who = "glutes" if order == "glute-first" else "hamstrings"
        return f"{who} first by {abs(lead_ms):.0f} ms{suffix}"
    if order == "simultaneous":
        return f"together (±{abs(lead_ms or 0):.0f} ms){suffix}"
    if order:
        return f"{order}{suffix}"
    if not_recorded:
        return f"order unknown: {' and '.join(not_recorded)} not recorded{suffix}"
    return f"undecided{suffix}"


#: What to do about each signal problem the rest check finds.
FLAT_REMEDY = (
    "Press the electrode down firmly and check that the lead is clipped on and the sensor "
    "is switched on."
)
CLIPPING_REMEDY = (
    "Press the electrodes down and check the lead: a loose electrode or a large offset drives "
    "the sensor to its limit. If the sensor has a gain setting, lower it."
)
MAINS_REMEDY = (
    "Move away from the charger and mains cables (unplug the laptop charger if you can), and "
    "press the electrodes down: poor contact picks up more hum."
)
NOISE_REMEDY = (
    "Clean the skin (alcohol wipe, let it dry), put on new electrodes, and wait a minute for "
    "the gel to settle."
)
ACTIVE_REST_REMEDY = (
    "Give as the rest period a stretch in which the athlete is still and relaxed (between "
    "sets, or before the first rep)."
)
MOTION_REMEDY = (
    "Keep still and relaxed during the rest check, and tape or clip the cable so that it "
    "does not swing or pull on the electrode."
)


#: what the athlete reads, per step: the get-ready text, the instruction while it counts
STEP_TEXT: dict[str, tuple[str, str]] = {
    "quality": (
        "Signal check next. Sit or lie down, relax both legs and keep still.",
        "Checking the signals: stay relaxed and keep still.",
    ),
    "rest": (
        "Rest baseline next. Lie back and let your glutes and hamstrings go completely loose.",
        "Relax completely and keep still.",
    ),
    "mvc-glute": (
        "Glute max test next (glute sensor). Lie on your back, knees bent, feet flat, with a "
        "strap or a partner holding your hips down. Stop if anything hurts.",
        "Squeeze your glutes as hard as you can: bridge and push the hips up against the "
        "resistance. Keep pushing!",
    ),
    "mvc-hamstring": (
        "Hamstring max test next (hamstring sensor). Lie face down, knee bent a little, with "
        "a strap or a partner holding your heel. Stop if you feel a cramp coming.",
        "Pull your heel towards your bottom as hard as you can against the resistance. "
        "Keep pulling!",
    ),
}
PAUSE_TEXT = "Relax and breathe. The next push comes after the countdown."


def band_note(lead_ms: float, centre_ms: float, halfwidth_ms: float) -> str:
    """What a rep's tile adds when its lead lies outside the athlete's own band, e.g.
    ``" — outside your usual +60 ± 25 ms"`` (empty inside it)."""
    if abs(lead_ms - centre_ms) <= halfwidth_ms:
        return ""
    return f" — outside your usual {centre_ms:+.0f} ± {halfwidth_ms:.0f} ms"
