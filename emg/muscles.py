"""Muscle vocabulary: canonical names, aliases, groups and side suffixes.

Channel names such as ``glute``, ``hamstring_left`` or ``biceps_femoris_right`` are parsed into
a muscle and an optional side. The *group* says what role a muscle plays in the recruitment
analysis: the gluteus maximus is the ``glute`` group, biceps femoris, semitendinosus and
semimembranosus are the ``hamstring`` group.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

#: canonical muscle name -> analysis group
MUSCLE_GROUPS: dict[str, str] = {
    "glute": "glute",
    "gluteus_medius": "other",
    "hamstring": "hamstring",
    "biceps_femoris": "hamstring",
    "semitendinosus": "hamstring",
    "semimembranosus": "hamstring",
    "rectus_femoris": "other",
    "vastus_medialis": "other",
    "vastus_lateralis": "other",
    "erector_spinae": "other",
    "emg": "other",
}

#: accepted spellings -> canonical name
MUSCLE_ALIASES: dict[str, str] = {
    "glutes": "glute",
    "gluteus_maximus": "glute",
    "gmax": "glute",
    "hamstrings": "hamstring",
    "bf": "biceps_femoris",
    "st": "semitendinosus",
    "sm": "semimembranosus",
    "rf": "rectus_femoris",
    "vm": "vastus_medialis",
    "vl": "vastus_lateralis",
    "gmed": "gluteus_medius",
}

SIDES = ("left", "right")


@dataclass(frozen=True)
class MuscleName:
    """A parsed channel name.

    Attributes
    ----------
    muscle
        Canonical muscle name (a key of :data:`MUSCLE_GROUPS`).
    side
        ``"left"``, ``"right"`` or ``None``.
    """

    muscle: str
    side: str | None

    @property
    def group(self) -> str:
        """The analysis group: ``glute``, ``hamstring`` or ``other``."""
        return MUSCLE_GROUPS[self.muscle]

    @property
    def label(self) -> str:
        """The canonical channel label, e.g. ``hamstring_left``."""
        return f"{self.muscle}_{self.side}" if self.side else self.muscle


def parse_muscle_name(name: str) -> MuscleName:
    """Parse a channel name into muscle and side.

    Parameters
    ----------
    name
        A name such as ``glute``, ``Hamstring_Left`` or ``biceps_femoris_r``.

    Returns
    -------
    MuscleName
        The canonical muscle and side.

    Raises
    ------
    KeyError
        If the muscle is not known; the message lists close matches.
    """
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    side: str | None = None
    for suffix, side_name in (
        ("_left", "left"),
        ("_right", "right"),
        ("_l", "left"),
        ("_r", "right"),
    ):
        if key.endswith(suffix) and key[: -len(suffix)]:
            key, side = key[: -len(suffix)], side_name
            break
    key = MUSCLE_ALIASES.get(key, key)
    if key not in MUSCLE_GROUPS:
        known = sorted(set(MUSCLE_GROUPS) | set(MUSCLE_ALIASES))
        close = difflib.get_close_matches(key, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise KeyError(
            f"unknown muscle '{name}'{hint}; known muscles: {', '.join(sorted(MUSCLE_GROUPS))},"
            " optionally with _left or _right"
        )
    return MuscleName(key, side)
