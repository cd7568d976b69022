"""An athlete's own usual band of leads and ratios, from their earlier sessions.

People differ as much as the effect: in prone hip extension healthy people's hamstring lead is
100-195 ms with a between-person SD of 70-97 ms (Lewis and Sahrmann 2009, J Athl Train 44:238).
So a rep is judged against the exercise's rule and, beside it, against the athlete's own
usual pattern: the centre and spread of the leads and ratios of their glute-first reps in
earlier sessions of the same exercise. The band changes no order decision and no flag of the
exercise rule; it only adds the ``outside-own-band`` flag.

The band is made from an athlete's history by :func:`emg.analysis.history.personal_band`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalBand:
    """An athlete's usual lead and ratio in one exercise.

    Attributes
    ----------
    exercise
        The exercise it is of.
    lead_ms, lead_halfwidth_ms
        Centre and half-width of the band of leads (ms).
    ratio, ratio_halfwidth
        Centre and half-width of the band of glute : hamstring ratios.
    reps, sessions
        How many glute-first reps of how many sessions it was made from.
    since
        Date of the earliest session in it (ISO 8601), if known.
    """

    exercise: str
    lead_ms: float
    lead_halfwidth_ms: float
    ratio: float | None
    ratio_halfwidth: float | None
    reps: int
    sessions: int
    since: str | None = None

    def outside(self, lead_ms: float) -> bool:
        """Whether a lead lies outside the band."""
        return abs(lead_ms - self.lead_ms) > self.lead_halfwidth_ms
