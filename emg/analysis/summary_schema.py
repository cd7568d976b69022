"""The shape of an analysis summary: what ``emg analyze --json`` prints, key by key, with types.

:func:`emg.analysis.summary.summarize` builds a :class:`SessionSummary`; the report, the batch
table and the library read it through these types, so a misspelt key or a value of the wrong
kind is a type error (mypy), not a ``KeyError`` at run time. At run time they are the plain
JSON-ready dicts that are printed and written.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from emg.analysis.recruitment import FlagChange, RiskLevel
from emg.order import ExpectedOrder, Order


class ChannelInfo(TypedDict):
    """A channel analysed."""

    label: str
    muscle: str
    side: str | None
    unit: str


class BurstRow(TypedDict):
    """A burst of one channel, seconds from the start; ``peak`` of the RMS envelope (µV)."""

    onset_s: float
    offset_s: float
    peak: float
    complete: bool


class BaselineLevel(TypedDict):
    """The rest level of a channel's RMS envelope (µV)."""

    mean_uv: float
    sd_uv: float


class ExerciseInfo(TypedDict):
    """How the reps were judged."""

    name: str
    expected_order: ExpectedOrder
    margin_ms: float
    flag_rule: str


class NormalisationInfo(TypedDict):
    """What the levels are expressed in: ``mvc`` (%MVC) or ``rest`` (multiples of rest)."""

    method: str
    unit: str
    mvc_uv: dict[str, float]


class PairInfo(TypedDict):
    """A glute/hamstring pair: its side and its channels' labels."""

    side: str | None
    glute: str
    hamstring: str


class UnpairedInfo(TypedDict):
    """A glute or hamstring channel in no pair, so in no rep, and why (``reason``, one line
    naming it: ``glute_right has no hamstring channel on its side: it is in no rep``)."""

    label: str
    group: str
    side: str | None
    reason: str


class RepRow(TypedDict):
    """One rep; times in seconds, lead in ms, levels in the rep's ``unit``."""

    index: int
    side: str | None
    start_s: float
    end_s: float | None
    glute_onset_s: float | None
    hamstring_onset_s: float | None
    glute_offset_s: float | None
    hamstring_offset_s: float | None
    lead_ms: float | None
    order: Order | None
    order_margin_ms: float | None
    ratio: float | None
    glute_level: float | None
    hamstring_level: float | None
    hamstring_share: float | None
    unit: str
    glute_median_frequency_hz: float | None
    hamstring_median_frequency_hz: float | None
    missing: list[str]
    not_recorded: list[str]
    no_signal: list[str]
    already_active: list[str]
    under_way_at_start: bool
    hamstring_elevated_before: bool | None
    decided_at_s: float | None
    completed_at_s: float | None
    complete: bool


class FlagRow(TypedDict):
    """A flag raised or cleared (``kind`` ends in ``-cleared``)."""

    time_s: float
    decided_at_s: float
    kind: FlagChange
    reps: list[int]
    side: str | None


class CrampRiskSummary(TypedDict):
    """The highest cramp-risk level reached, when, why, and the level at the end."""

    level: RiskLevel
    reasons: list[str]
    time_s: float | None
    side: str | None
    final_level: RiskLevel


class RiskChange(TypedDict):
    """A change of the cramp-risk level of one side."""

    time_s: float
    side: str | None
    level: RiskLevel
    reasons: tuple[str, ...]


class BandInfo(TypedDict):
    """The athlete's own usual band the reps were judged against beside the rule."""

    exercise: str
    lead_ms: float
    lead_halfwidth_ms: float
    ratio: float | None
    ratio_halfwidth: float | None
    reps: int
    sessions: int
    since: str | None


class RecruitmentSummary(TypedDict):
    """Reps, flags and cramp risk (see :func:`emg.analysis.summary.recruitment_summary`);
    ``unpaired``: the glute and hamstring channels in no pair; ``personal_band`` only when
    the athlete's own band was used."""

    exercise: ExerciseInfo
    normalisation: NormalisationInfo
    pairs: list[PairInfo]
    unpaired: list[UnpairedInfo]
    reps: list[RepRow]
    flags: list[FlagRow]
    cramp_risk: CrampRiskSummary
    cramp_risk_timeline: list[RiskChange]
    note: str
    personal_band: NotRequired[BandInfo]


class SessionSummary(RecruitmentSummary):
    """The whole analysis of a recording (see :func:`emg.analysis.summary.summarize`)."""

    file: str | None
    sample_rate: float
    duration_s: float
    channels: list[ChannelInfo]
    settings: dict[str, Any]
    bandpass_hz: list[float]
    lost_samples: dict[str, int]
    stuck: dict[str, list[list[float]]]
    baseline: dict[str, BaselineLevel | None]
    bursts: dict[str, list[BurstRow]]
    median_frequency_hz: dict[str, float | None]
    rest_quality: dict[str, Any] | None
