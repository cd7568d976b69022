"""Exercise presets: which onset order is expected, and how a deviation is flagged.

In the barbell hip thrust the gluteus maximus is the prime mover of hip extension and should
switch on first; a set in which the hamstrings keep starting the movement is the pattern behind
hamstring cramps. In prone hip extension a hamstring-first order is normal in healthy people
(several studies), so it is never flagged there. The squat ascent co-activates both muscles,
so its order is judged with a wider margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from emg.dsp.chain_limits import SettingError
from emg.order import EXPECTED_ORDERS, CalledOrder, ExpectedOrder


@dataclass(frozen=True)
class ExerciseConfig:
    """How reps of one exercise are judged.

    Attributes
    ----------
    name
        Preset name (``hip-thrust``, ``prone-hip-extension``, ``squat``) or ``custom``.
    expected_order
        ``glute-first``, ``hamstring-first`` or ``any`` (no order flag).
    margin_ms
        Onsets closer than this are ``simultaneous`` (onset-detection error is ~15-50 ms).
    flag_count, flag_window
        The order flag is raised when at least ``flag_count`` of the last ``flag_window``
        reps have the unexpected order (one rep is not a pattern).
    share_margin
        The hamstring-share flag is raised when the mean hamstring share of the last
        ``flag_window`` reps exceeds that of the first ``flag_window`` by this much (0-1;
        0 turns it off).
    """

    name: str = "hip-thrust"
    expected_order: ExpectedOrder = "glute-first"
    margin_ms: float = 50.0
    flag_count: int = 2
    flag_window: int = 3
    share_margin: float = 0.10

    def __post_init__(self) -> None:
        if self.expected_order not in EXPECTED_ORDERS:
            raise ValueError(
                f"expected order must be one of {', '.join(EXPECTED_ORDERS)}, "
                f"got '{self.expected_order}'"
            )
        # refusals name their field (the settings resolution adds the part's name)
        if not self.margin_ms >= 0:  # also NaN
            raise SettingError("margin_ms", f"margin must be >= 0 ms, got {self.margin_ms:g}")
        if self.flag_count < 1:
            raise SettingError(
                "flag_count", f"the flag count must be at least 1, got {self.flag_count}"
            )
        if self.flag_count > self.flag_window:
            raise SettingError(
                "flag_count",
                f"the flag needs count <= window, got {self.flag_count} of {self.flag_window}",
            )
        if not 0 <= self.share_margin < 1:
            raise ValueError(f"share margin must be in [0, 1), got {self.share_margin:g}")

    @property
    def flagged_order(self) -> CalledOrder | None:
        """The order that raises the flag, or None when any order is fine."""
        if self.expected_order == "glute-first":
            return "hamstring-first"
        if self.expected_order == "hamstring-first":
            return "glute-first"
        return None


EXERCISES: dict[str, ExerciseConfig] = {
    "hip-thrust": ExerciseConfig("hip-thrust", "glute-first", 50.0),
    "prone-hip-extension": ExerciseConfig("prone-hip-extension", "any", 50.0, share_margin=0.0),
    "squat": ExerciseConfig("squat", "glute-first", 100.0),
}


def exercise_preset(name: str) -> ExerciseConfig:
    """The preset called ``name``.

    Raises
    ------
    KeyError
        If there is no such preset; the message lists the known ones.
    """
    try:
        return EXERCISES[name]
    except KeyError:
        raise KeyError(
            f"unknown exercise '{name}'; known: {', '.join(EXERCISES)}, custom"
        ) from None
