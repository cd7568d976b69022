"""The condition a simulator family is asked to simulate, and the truth of one rep.

Every family (:mod:`emg.sources.families`) takes a :class:`FamilyCondition` (sample rate,
SNR and recruitment speed per muscle, noise, drift, crosstalk) and describes each rep's truth
with :func:`truth_rep`, so that all families are scored alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from emg.order import classify_order

#: how the noise added to the sEMG is coloured: flat, or with a 1/f rise at low frequencies
NoiseColour = Literal["white", "coloured"]
#: how a muscle's activation rises from its low level at the true onset
OnsetShape = Literal["step", "linear", "sigmoid", "exponential"]
ONSET_SHAPES: tuple[OnsetShape, ...] = ("step", "linear", "sigmoid", "exponential")
MUSCLES = ("glute", "hamstring")


@dataclass(frozen=True)
class FamilyCondition:
    """One validation condition: what every family must simulate.

    Times in seconds, levels as fractions of the muscle's maximum.

    Attributes
    ----------
    fs
        Sample rate in Hz (1000 and 2000 are the conditions of the validation).
    reps
        Reps in the set.
    lead_ms
        Hamstring onset minus glute onset of every rep (negative: hamstrings first).
    glute_snr_db, hamstring_snr_db
        SNR per muscle as Bonato et al. (1998) and Kowalski et al. (2021) define it:
        ``10 log10(P_signal / P_noise)`` with the signal's power over the active plateau and
        the noise's power at rest.
    glute_ramp_s, hamstring_ramp_s
        ``(shortest, longest)`` time each muscle takes to rise from its onset to its plateau;
        each rep draws its own ramp uniformly from this range (per muscle, independently).
    shapes
        Onset shapes a rep may have (drawn per rep and muscle); ``step`` ignores the ramp.
    noise
        Colour of the additive noise.
    drift_uv
        Peak amplitude of a slow (< 1 Hz) baseline drift; 0 turns it off.
    mains_uv
        RMS of 50 Hz mains interference; 0 turns it off.
    crosstalk
        Fraction of each muscle's signal picked up by the other sensor.
    first_onset_s
        Time of the first rep's earlier onset after the stream starts; later reps follow at
        ``rep_period_s``. A short value tests the first burst of a stream.
    rep_period_s
        Time from one rep's earlier onset to the next one's (a random +-0.2 s is added).
    active_s
        How long the earlier muscle stays active in a rep.
    """

    fs: float = 2000.0
    reps: int = 8
    lead_ms: float = 80.0
    glute_snr_db: float = 20.0
    hamstring_snr_db: float = 20.0
    glute_ramp_s: tuple[float, float] = (0.02, 0.06)
    hamstring_ramp_s: tuple[float, float] = (0.02, 0.06)
    shapes: tuple[OnsetShape, ...] = ONSET_SHAPES
    noise: NoiseColour = "white"
    drift_uv: float = 0.0
    mains_uv: float = 0.0
    crosstalk: float = 0.0
    first_onset_s: float = 3.0
    rep_period_s: float = 3.0
    active_s: float = 1.2

    def snr_db(self, muscle: str) -> float:
        """The SNR of ``muscle``."""
        return self.glute_snr_db if muscle == "glute" else self.hamstring_snr_db

    def ramp_s(self, muscle: str) -> tuple[float, float]:
        """The ramp range of ``muscle``."""
        return self.glute_ramp_s if muscle == "glute" else self.hamstring_ramp_s

    def onset_times(self, rng: np.random.Generator) -> list[tuple[float, float]]:
        """``(glute onset, hamstring onset)`` of every rep, in seconds."""
        lead = self.lead_ms / 1000
        times = []
        for k in range(self.reps):
            jitter = rng.uniform(-0.2, 0.2) if k else 0.0
            earlier = self.first_onset_s + k * self.rep_period_s + jitter
            glute = earlier + max(0.0, -lead)
            times.append((glute, glute + lead))
        return times

    def duration_s(self) -> float:
        """Length of the set: the last rep ends, then 2 s of rest."""
        last_onset = self.first_onset_s + (self.reps - 1) * self.rep_period_s + 0.2
        return last_onset + abs(self.lead_ms) / 1000 + self.active_s + 0.5 + 2.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (for the truth file)."""
        return {
            "fs": self.fs,
            "reps": self.reps,
            "lead_ms": self.lead_ms,
            "glute_snr_db": self.glute_snr_db,
            "hamstring_snr_db": self.hamstring_snr_db,
            "glute_ramp_s": list(self.glute_ramp_s),
            "hamstring_ramp_s": list(self.hamstring_ramp_s),
            "shapes": list(self.shapes),
            "noise": self.noise,
            "drift_uv": self.drift_uv,
            "mains_uv": self.mains_uv,
            "crosstalk": self.crosstalk,
            "first_onset_s": self.first_onset_s,
            "rep_period_s": self.rep_period_s,
            "active_s": self.active_s,
        }


def truth_rep(
    index: int,
    onsets: dict[str, float],
    offsets: dict[str, float],
    levels: dict[str, float],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One rep of the ground truth, in the format ``emg synth`` writes.

    Parameters
    ----------
    index
        1-based rep number.
    onsets, offsets
        True onset and offset per muscle (``glute``, ``hamstring``), seconds.
    levels
        Plateau activation per muscle, as a fraction of its maximum.
    extra
        Family-specific facts about the rep (ramp durations, shapes ...).

    Returns
    -------
    dict
        ``index``, ``<muscle>_onset_s``, ``<muscle>_offset_s``, ``lead_ms``, ``order``,
        ``<muscle>_level``, ``ratio`` and the extras.
    """
    lead_ms = (onsets["hamstring"] - onsets["glute"]) * 1000
    rep: dict[str, Any] = {"index": index}
    for muscle in MUSCLES:
        rep[f"{muscle}_onset_s"] = onsets[muscle]
        rep[f"{muscle}_offset_s"] = offsets[muscle]
    rep.update(
        lead_ms=lead_ms,
        order=classify_order(lead_ms),
        glute_level=levels["glute"],
        hamstring_level=levels["hamstring"],
        ratio=levels["glute"] / levels["hamstring"],
    )
    rep.update(extra or {})
    return rep
