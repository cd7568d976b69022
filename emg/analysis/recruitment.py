"""Recruitment pattern over a set: the hamstring-first flag and the cramp risk.

Fed the rep events of one glute/hamstring pair as they happen (see :mod:`emg.analysis.reps`),
so a flag is raised at the moment the rep that completes the pattern is decided, not at the end
of the file.

- **Order flag**: the unexpected order (hamstring-first in the hip thrust) in at least
  ``flag_count`` of the last ``flag_window`` decided reps; cleared when that no longer holds.
- **Share flag**: the hamstring's share of the work, mean of the last ``flag_window`` reps,
  risen by ``share_margin`` above the first ``flag_window`` reps of the set.
- **Cramp risk** ``ok`` / ``watch`` / ``warning`` from: the flags; hamstring activity that stays
  on after the glutes relaxed (sustained involuntary activity is what a cramp is; Schwellnus et
  al. 1997 found raised EMG between spasms) or does not fall back to rest between reps; the
  hamstring median frequency falling at least 10 % below the set start (fatigue), by more than
  its measurement error. One reason is ``watch``; two, or hamstrings still on a second after
  the glutes relaxed, is ``warning``.

The median frequency of a ~1 s burst scatters by about 5 % from rep to rep from the burst's
finite length alone (a stochastic signal's spectrum is only estimated), so the mean of 3 reps
against the mean of 3 others differs by about 4.5 % (1 SD) in a set without fatigue; taken at
face value, a 10 % drop is then reached somewhere in a 12-rep set about once in 30 sets. The
drop therefore has to exceed the threshold by ``mdf_confidence`` standard errors, which each
rep's median frequency carries (see :func:`emg.dsp.spectral.median_frequency_error`).

A training aid, not a diagnosis.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar, get_args

import numpy as np

from emg.analysis.exercises import ExerciseConfig
from emg.analysis.personal_band import PersonalBand
from emg.analysis.reps import Rep, RepEvent

T = TypeVar("T")

#: A cramp-risk level, lowest first in :data:`RISK_LEVELS`.
RiskLevel = Literal["ok", "watch", "warning"]
RISK_LEVELS: tuple[RiskLevel, ...] = get_args(RiskLevel)
#: A flag that can be raised.
FlagKind = Literal["hamstring-first", "glute-first", "hamstring-share"]
#: A flag raised, or cleared (``-cleared`` appended).
FlagChange = Literal[
    "hamstring-first",
    "glute-first",
    "hamstring-share",
    "hamstring-first-cleared",
    "glute-first-cleared",
    "hamstring-share-cleared",
    "outside-own-band",
    "outside-own-band-cleared",
]
_CLEARED: dict[FlagKind, FlagChange] = {
    "hamstring-first": "hamstring-first-cleared",
    "glute-first": "glute-first-cleared",
    "hamstring-share": "hamstring-share-cleared",
}


class _FirstAndLast(Generic[T]):
    """The first ``n`` and the last ``n`` of a growing sequence, in constant memory."""

    def __init__(self, n: int) -> None:
        self.first: list[T] = []
        self.last: deque[T] = deque(maxlen=n)
        self.count = 0
        self.has_none = False
        self._n = n

    def append(self, item: T) -> None:
        if len(self.first) < self._n:
            self.first.append(item)
        self.last.append(item)
        self.count += 1
        if isinstance(item, tuple) and any(v is None for v in item):
            self.has_none = True


@dataclass(frozen=True)
class Flag:
    """A flag raised or cleared.

    Attributes
    ----------
    kind
        ``hamstring-first`` (or ``glute-first`` when the hamstrings are expected to lead),
        ``hamstring-share``, each with ``-cleared`` appended when it is lowered.
    at
        Sample at which it was decided.
    reps
        Rep numbers behind it: those with the unexpected order for a raised flag, the reps of
        the window for a cleared one.
    side
        Side of the pair.
    """

    kind: FlagChange
    at: int
    reps: tuple[int, ...]
    side: str | None = None

    @property
    def raised(self) -> bool:
        """True for a raised flag, False for a cleared one."""
        return not self.kind.endswith("-cleared")


@dataclass(frozen=True)
class CrampRisk:
    """The cramp-risk level from a given sample on.

    Attributes
    ----------
    level
        ``ok``, ``watch`` or ``warning``.
    reasons
        Plain-language reasons (empty when ``ok``).
    codes
        Machine-readable reason codes, same order.
    at
        Sample from which it holds.
    side
        Side of the pair.
    """

    level: RiskLevel
    reasons: tuple[str, ...]
    codes: tuple[str, ...]
    at: int
    side: str | None = None


@dataclass(frozen=True)
class RiskConfig:
    """Cramp-risk thresholds.

    Attributes
    ----------
    mdf_drop
        Relative fall of the hamstring median frequency from the set start (0.10 = 10 %).
    mdf_reference_reps
        Reps whose mean median frequency makes the set-start reference; the latest as many
        reps are compared with it.
    mdf_confidence
        The drop counts when it exceeds ``mdf_drop`` by this many of its standard errors
        (from the reps' median-frequency errors); 0: the measured drop alone.
    tonic_warning_s
        Hamstring activity this long after the glutes relaxed is a warning on its own.
    """

    mdf_drop: float = 0.10
    mdf_reference_reps: int = 3
    mdf_confidence: float = 1.0
    tonic_warning_s: float = 1.0

    def __post_init__(self) -> None:
        if self.mdf_confidence < 0:
            raise ValueError(f"mdf confidence must be >= 0, got {self.mdf_confidence:g}")


@dataclass
class _Reason:
    code: str
    text: str
    severe: bool = False


def _mean_and_error(values: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Mean of ``(value, standard error)`` pairs and the standard error of that mean."""
    means = np.array([v for v, _ in values])
    errors = np.array([e for _, e in values])
    return float(means.mean()), float(np.sqrt(np.sum(errors**2)) / len(errors))


def mdf_drop(
    reference: float, reference_se: float, current: float, current_se: float
) -> tuple[float, float]:
    """Relative drop of the median frequency from ``reference`` to ``current``, and its error.

    Parameters
    ----------
    reference, reference_se
        Set-start median frequency (Hz) and its standard error.
    current, current_se
        Recent median frequency (Hz) and its standard error (independent of the reference's).

    Returns
    -------
    drop, standard_error
        ``1 - current / reference`` and its first-order (delta-method) standard error.
    """
    ratio = current / reference
    relative = np.hypot(current_se / current, reference_se / reference)
    return 1 - ratio, float(ratio * relative)


class RecruitmentTracker:
    """Flags and cramp risk of one glute/hamstring pair, from its rep events.

    Parameters
    ----------
    exercise
        Expected order and flag settings.
    side
        Side of the pair.
    risk
        Cramp-risk thresholds.
    band
        The athlete's own band: a rep whose lead lies outside it raises the
        ``outside-own-band`` flag, a rep inside it clears it. It changes no order decision,
        no flag of the exercise rule and no cramp risk.
    """

    def __init__(
        self,
        exercise: ExerciseConfig,
        side: str | None = None,
        risk: RiskConfig | None = None,
        band: PersonalBand | None = None,
    ) -> None:
        self.exercise, self.side = exercise, side
        self.risk = risk or RiskConfig()
        self.band = band
        self._outside_band: list[int] = []
        self.decided: deque[Rep] = deque(maxlen=exercise.flag_window)
        self._shares = _FirstAndLast[tuple[int, float | None]](exercise.flag_window)
        self._mdfs = _FirstAndLast[tuple[float, float]](self.risk.mdf_reference_reps)
        self.raised: set[str] = set()
        self._reasons: dict[str, _Reason] = {}
        self._tonic_rep: int | None = None
        self._share_levels = (0.0, 0.0)
        self._last: tuple[str, tuple[str, ...]] = ("ok", ())

    def process(self, events: list[RepEvent]) -> tuple[list[Flag], list[CrampRisk]]:
        """Consume rep events; return the flags and cramp-risk changes they caused."""
        flags: list[Flag] = []
        risks: list[CrampRisk] = []
        for event in events:
            rep = event.rep
            if rep.unrecorded and event.kind in ("decided", "completed"):
                # a muscle's sensor dropped out: the rep says nothing either way, and clears
                # nothing (a rep whose order was decided before the loss counts its order)
                continue
            if event.kind == "decided":
                self.decided.append(rep)
                flags.extend(self._order_flag(event.at))
                flags.extend(self._band_flag(rep, event.at))
            elif event.kind == "completed":
                self._shares.append((rep.index, rep.hamstring_share))
                if (mdf := rep.median_frequency_hz.get("hamstring")) is not None:
                    error = rep.median_frequency_se_hz.get("hamstring")
                    self._mdfs.append((mdf, error if error is not None else 0.0))
                flags.extend(self._share_flag(event.at))
                self._rep_reasons(rep)
            elif event.kind == "tonic":
                self._tonic_rep = rep.index
                self._reasons["tonic"] = _Reason(
                    "hamstring-sustained",
                    f"hamstrings still active {event.seconds:g} s after the glutes relaxed "
                    f"(rep {rep.index})",
                    severe=event.seconds >= self.risk.tonic_warning_s,
                )
            self._sync_flag_reasons()
            risk = self._risk(event.at)
            if (risk.level, risk.reasons) != self._last:
                self._last = (risk.level, risk.reasons)
                risks.append(risk)
        return flags, risks

    @property
    def level(self) -> str:
        """The current cramp-risk level."""
        return self._last[0]

    def _order_flag(self, at: int) -> list[Flag]:
        flagged = self.exercise.flagged_order
        if flagged is None:
            return []
        window = list(self.decided)
        hits = tuple(r.index for r in window if r.order == flagged)
        holds = len(hits) >= self.exercise.flag_count
        return self._transition(
            flagged, holds, at, hits if holds else tuple(r.index for r in window)
        )

    def _band_flag(self, rep: Rep, at: int) -> list[Flag]:
        """Raised by each rep outside the athlete's own band (naming all such reps since it
        went up), cleared by the next rep inside it."""
        if self.band is None or rep.lead_ms is None:
            return []
        if self.band.outside(rep.lead_ms):
            self._outside_band.append(rep.index)
            return [Flag("outside-own-band", at, tuple(self._outside_band), self.side)]
        if self._outside_band:
            self._outside_band = []
            return [Flag("outside-own-band-cleared", at, (rep.index,), self.side)]
        return []

    def _share_flag(self, at: int) -> list[Flag]:
        n, margin = self.exercise.flag_window, self.exercise.share_margin
        shares = self._shares
        if margin <= 0 or shares.count < 2 * n or shares.has_none:
            return []
        start = float(np.mean([s for _, s in shares.first if s is not None]))
        recent = float(np.mean([s for _, s in shares.last if s is not None]))
        reps = tuple(index for index, _ in shares.last)
        self._share_levels = (start, recent)
        return self._transition("hamstring-share", recent - start >= margin, at, reps)

    def _transition(
        self, kind: FlagKind, holds: bool, at: int, reps: tuple[int, ...]
    ) -> list[Flag]:
        if holds and kind not in self.raised:
            self.raised.add(kind)
            return [Flag(kind, at, reps, self.side)]
        if not holds and kind in self.raised:
            self.raised.discard(kind)
            return [Flag(_CLEARED[kind], at, reps, self.side)]
        return []

    def _sync_flag_reasons(self) -> None:
        flagged = self.exercise.flagged_order
        if flagged is not None and flagged in self.raised:
            window = list(self.decided)
            hits = [str(r.index) for r in window if r.order == flagged]
            muscle = flagged.split("-")[0] + "s"
            self._reasons["flag"] = _Reason(
                flagged,
                f"{muscle} started {len(hits)} of the last {len(window)} reps "
                f"(rep {', '.join(hits)})",
            )
        else:
            self._reasons.pop("flag", None)
        if "hamstring-share" in self.raised:
            start, recent = self._share_levels
            self._reasons["share"] = _Reason(
                "hamstring-share",
                f"the hamstrings' share of the work rose from {start:.0%} to {recent:.0%}",
            )
        else:
            self._reasons.pop("share", None)

    def _rep_reasons(self, rep: Rep) -> None:
        if (
            self._tonic_rep is not None
            and rep.index > self._tonic_rep
            and ("hamstring" not in rep.carried)
        ):
            self._reasons.pop("tonic", None)
            self._tonic_rep = None
        if rep.hamstring_elevated_before:
            self._reasons["between"] = _Reason(
                "hamstring-between-reps",
                f"hamstring activity did not fall back to rest before rep {rep.index}",
            )
        else:
            self._reasons.pop("between", None)
        known = self._mdfs
        n = self.risk.mdf_reference_reps
        if known.count >= 2 * n and rep.median_frequency_hz.get("hamstring") is not None:
            (reference, reference_se), (current, current_se) = (
                _mean_and_error(known.first),
                _mean_and_error(known.last),
            )
            drop, drop_se = mdf_drop(reference, reference_se, current, current_se)
            if drop - self.risk.mdf_confidence * drop_se >= self.risk.mdf_drop:
                self._reasons["mdf"] = _Reason(
                    "hamstring-fatigue",
                    f"hamstring median frequency {drop:.0%} below the set start "
                    f"({current:.0f} vs {reference:.0f} Hz over the last {n} reps)",
                )
                return
        self._reasons.pop("mdf", None)

    def _risk(self, at: int) -> CrampRisk:
        reasons = list(self._reasons.values())
        level: RiskLevel
        if any(r.severe for r in reasons) or len(reasons) >= 2:
            level = "warning"
        elif reasons:
            level = "watch"
        else:
            level = "ok"
        return CrampRisk(
            level,
            tuple(r.text for r in reasons),
            tuple(r.code for r in reasons),
            at,
            self.side,
        )
