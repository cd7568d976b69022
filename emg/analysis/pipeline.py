"""The whole causal analysis of a stream: signal chain, reps, flags and cramp risk.

The same :class:`SessionPipeline` serves live acquisition, replay and offline analysis. Muscles
with ``_left``/``_right`` suffixes are paired per side (the glute and the hamstring of one leg).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emg.analysis.exercises import ExerciseConfig
from emg.analysis.normalisation import Normalisation
from emg.analysis.personal_band import PersonalBand
from emg.analysis.recruitment import CrampRisk, Flag, RecruitmentTracker, RiskConfig
from emg.analysis.reps import RepConfig, RepEvent, RepTracker
from emg.block import Block, Channel
from emg.dsp.chain import ChainConfig, ChainOutput, SignalChain
from emg.dsp.chain_limits import Limit, SettingError
from emg.muscles import MUSCLE_GROUPS

#: The range of every numeric setting of the parts besides the chain (whose limits are
#: :data:`emg.dsp.chain_limits.CHAIN_LIMITS`), by part and field.
PART_LIMITS: dict[str, dict[str, Limit]] = {
    "exercise": {
        "margin_ms": Limit(0.0, 1000.0, "the simultaneity margin", "ms"),
        "flag_count": Limit(1, 20, "the flag count (N of N/M)", integer=True),
        "flag_window": Limit(1, 20, "the flag window (M of N/M)", integer=True),
        "share_margin": Limit(0.0, 0.99, "the hamstring share margin"),
    },
    "reps": {
        "margin_ms": Limit(0.0, 1000.0, "the simultaneity margin", "ms"),
        "min_rep_s": Limit(0.0, 60.0, "the shortest rep", "s", above=True),
        "merge_gap_s": Limit(0.0, 60.0, "the burst merge gap", "s"),
        "max_rep_s": Limit(0.0, 600.0, "the longest rep", "s", above=True),
        "pre_window_s": Limit(0.0, 60.0, "the window before a rep", "s"),
        "elevated_sd": Limit(0.0, 100.0, "the elevated-activity threshold (SDs)"),
        "rise_weight": Limit(0.0, 1.0, "the rise weight"),
        "start_weight": Limit(0.0, 1.0, "the rise-start weight"),
        "confidence_ms": Limit(0.0, 1000.0, "the confidence scale", "ms"),
        "rest_guard_s": Limit(0.0, 60.0, "the rest guard", "s"),
        "rest_span_s": Limit(0.0, 600.0, "the rest span", "s", above=True),
        "rest_memory_s": Limit(0.0, 3600.0, "the rest memory", "s", above=True),
    },
    "risk": {
        "mdf_drop": Limit(0.0, 1.0, "the median-frequency drop"),
        "mdf_reference_reps": Limit(1, 100, "the reference reps", integer=True),
        "mdf_confidence": Limit(0.0, 100.0, "the median-frequency confidence (SEs)"),
        "tonic_warning_s": Limit(0.0, 600.0, "the sustained-activity warning time", "s"),
    },
}

#: Longest sustained-activity probe of ``reps.tonic_s`` (seconds).
MAX_TONIC_S = 60.0
#: Largest MVC amplitude accepted (microvolts; surface EMG is a few millivolts at most).
MAX_MVC_UV = 1e6


def check_part_values(part: str, values: Mapping[str, Any]) -> None:
    """Check the numeric settings of one part (``exercise``, ``reps``, ``risk``,
    ``normalisation``) against :data:`PART_LIMITS`.

    Parameters
    ----------
    part
        The part's name.
    values
        Field -> value (fields without a limit are left to the part's own checks).

    Raises
    ------
    SettingError
        Naming ``part.field`` and the range.
    """
    for name, limit in PART_LIMITS.get(part, {}).items():
        if name in values:
            limit.check(f"{part}.{name}", values[name])
    if part == "reps" and "tonic_s" in values:
        probes = values["tonic_s"]
        tonic = Limit(0.0, MAX_TONIC_S, "each sustained-activity probe", "s")
        if not isinstance(probes, tuple | list):
            raise SettingError("reps.tonic_s", f"must be a list of seconds, got {probes!r}")
        for value in probes:
            tonic.check("reps.tonic_s", value)
    if part == "normalisation" and "mvc_uv" in values:
        _check_mvc(values["mvc_uv"])


def _check_mvc(mvc: Any) -> None:
    if not isinstance(mvc, Mapping):
        raise SettingError("normalisation.mvc_uv", f"must map muscle -> microvolts, got {mvc!r}")
    for group, value in mvc.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and 0 < value <= MAX_MVC_UV):
            raise SettingError(
                f"normalisation.mvc_uv.{group}",
                f"the MVC amplitude must be above 0 and at most {MAX_MVC_UV:g} uV, got {value!r}",
            )


@dataclass(frozen=True)
class AnalysisConfig:
    """Everything that shapes the analysis.

    Attributes
    ----------
    chain
        Signal-chain settings.
    exercise
        Exercise preset (expected order, margin, flag rule).
    normalisation
        MVC references; none means multiples of rest.
    risk
        Cramp-risk thresholds.
    reps
        Rep grouping (its margin is taken from ``exercise``).
    band
        The athlete's own usual band (:mod:`emg.analysis.personal_band`): reps outside it
        raise the ``outside-own-band`` flag; None: no such flag.
    """

    chain: ChainConfig = field(default_factory=ChainConfig)
    exercise: ExerciseConfig = field(default_factory=ExerciseConfig)
    normalisation: Normalisation = field(default_factory=Normalisation)
    risk: RiskConfig = field(default_factory=RiskConfig)
    reps: RepConfig = field(default_factory=RepConfig)
    band: PersonalBand | None = None

    def __post_init__(self) -> None:
        for part in ("exercise", "reps", "risk", "normalisation"):
            check_part_values(part, dataclasses.asdict(getattr(self, part)))
        if self.reps.min_rep_s > self.reps.max_rep_s:
            raise SettingError(
                "reps.min_rep_s",
                f"the shortest rep ({self.reps.min_rep_s:g} s) must not be longer than the "
                f"longest (max_rep_s, {self.reps.max_rep_s:g} s)",
            )


@dataclass(frozen=True)
class MusclePair:
    """The glute and hamstring channel (indices) of one side."""

    side: str | None
    glute: int
    hamstring: int


def muscle_pairs(channels: tuple[Channel, ...]) -> list[MusclePair]:
    """Glute/hamstring pairs, one per side (the first channel of each group on that side).

    Parameters
    ----------
    channels
        The stream's channels.

    Returns
    -------
    list of MusclePair
        Sides in the order ``None``, ``left``, ``right``; empty when no side has both.
    """
    pairs: list[MusclePair] = []
    for side in (None, "left", "right"):
        found: dict[str, int] = {}
        for index, channel in enumerate(channels):
            group = MUSCLE_GROUPS.get(channel.muscle, "other")
            if channel.side == side and group in ("glute", "hamstring"):
                found.setdefault(group, index)
        if len(found) == 2:
            pairs.append(MusclePair(side, found["glute"], found["hamstring"]))
    return pairs


@dataclass(frozen=True)
class UnpairedChannel:
    """A glute or hamstring channel that is in no pair, so in no rep.

    Attributes
    ----------
    channel
        Its index.
    group
        ``glute`` or ``hamstring``.
    side
        Its side (None: it names none).
    paired_instead
        The channel of the same group and side that is paired (the first of them), if a
        pair was made on its side; None when its side has no channel of the other group.
    """

    channel: int
    group: str
    side: str | None
    paired_instead: int | None = None


def unpaired_channels(
    channels: tuple[Channel, ...], pairs: list[MusclePair] | None = None
) -> list[UnpairedChannel]:
    """The glute and hamstring channels :func:`muscle_pairs` leaves out, and why.

    Parameters
    ----------
    channels
        The stream's channels.
    pairs
        Their pairs (default: :func:`muscle_pairs` of ``channels``).

    Returns
    -------
    list of UnpairedChannel
        In channel order; channels of other muscles (``rectus_femoris`` ...) are never
        paired, and not listed.
    """
    pairs = muscle_pairs(channels) if pairs is None else pairs
    by_side = {pair.side: pair for pair in pairs}
    unpaired: list[UnpairedChannel] = []
    for index, channel in enumerate(channels):
        group = MUSCLE_GROUPS.get(channel.muscle, "other")
        if group not in ("glute", "hamstring"):
            continue
        pair = by_side.get(channel.side)
        paired = None if pair is None else (pair.glute if group == "glute" else pair.hamstring)
        if paired != index:
            unpaired.append(UnpairedChannel(index, group, channel.side, paired))
    return unpaired


def crosstalk_partners(n_channels: int, pairs: list[MusclePair]) -> list[tuple[int, ...]]:
    """For each channel, the channel over the neighbouring muscle whose crosstalk it may
    carry: the hamstring of its side for a glute, and the other way round; none for other
    channels.

    Parameters
    ----------
    n_channels
        Number of channels.
    pairs
        The glute/hamstring pairs (:func:`muscle_pairs`).

    Returns
    -------
    list of tuple of int
        Partner channel indices, one tuple per channel.
    """
    partners: list[tuple[int, ...]] = [()] * n_channels
    for pair in pairs:
        partners[pair.glute], partners[pair.hamstring] = (pair.hamstring,), (pair.glute,)
    return partners


@dataclass
class PipelineOutput:
    """What one block made known.

    Attributes
    ----------
    chain
        Filtered signal, envelope, onsets and bursts, baselines, median frequencies.
    reps
        Rep decisions, completions and sustained-activity reports.
    flags
        Flags raised or cleared.
    risks
        Cramp-risk changes.
    """

    chain: ChainOutput
    reps: list[RepEvent] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    risks: list[CrampRisk] = field(default_factory=list)


class SessionPipeline:
    """Signal chain plus recruitment analysis of every glute/hamstring pair.

    Parameters
    ----------
    channels
        The stream's channels.
    sample_rate
        Samples per second.
    config
        Analysis settings.
    """

    def __init__(
        self, channels: tuple[Channel, ...], sample_rate: float, config: AnalysisConfig
    ) -> None:
        self.channels, self.fs, self.config = channels, sample_rate, config
        self.pairs = muscle_pairs(channels)
        self.chain = SignalChain(
            config.chain, sample_rate, len(channels), crosstalk_partners(len(channels), self.pairs)
        )
        chain_config = config.chain
        delay = self.chain.samples(chain_config.hold_s) + (
            self.chain.samples(chain_config.refine_s) if chain_config.refine_s > 0 else 0
        )
        rep_config = RepConfig(**{**config.reps.__dict__, "margin_ms": config.exercise.margin_ms})
        self.rep_trackers = [
            RepTracker(
                (pair.glute, pair.hamstring),
                sample_rate,
                decision_delay=delay,
                config=rep_config,
                normalisation=config.normalisation,
                side=pair.side,
                settle=self.chain.settle,
                envelope=self.chain.samples(chain_config.envelope_s),
            )
            for pair in self.pairs
        ]
        self.recruitment = [
            RecruitmentTracker(config.exercise, pair.side, config.risk, config.band)
            for pair in self.pairs
        ]

    def process(self, block: Block) -> PipelineOutput:
        """Run one block through the chain and the recruitment analysis."""
        return self._recruit(self.chain.process(block))

    def process_array(self, x: np.ndarray, lost: np.ndarray | None = None) -> PipelineOutput:
        """Run the next ``(n_samples, n_channels)`` float64 samples (``lost``: those lost in
        transit) through the pipeline."""
        return self._recruit(self.chain.process_array(x, lost))

    def _recruit(self, chain: ChainOutput) -> PipelineOutput:
        out = PipelineOutput(chain)
        for reps, recruitment in zip(self.rep_trackers, self.recruitment, strict=True):
            events = reps.process(
                chain.start,
                chain.filtered,
                chain.envelope,
                chain.events,
                chain.amplitude_baselines,
                chain.lost,
                chain.stuck,
            )
            self._follow(out, events, recruitment)
        return out

    def flush(self) -> PipelineOutput:
        """End of the stream: close open bursts and reps."""
        events = self.chain.flush()
        n = len(self.channels)
        empty = np.zeros((0, n))
        stretches = self.chain.flush_stuck()
        out = PipelineOutput(
            ChainOutput(
                self.chain.position, empty, empty, events=list(events), stuck_stretches=stretches
            )
        )
        for reps, recruitment in zip(self.rep_trackers, self.recruitment, strict=True):
            rep_events = reps.process(self.chain.position, empty, empty, list(events))
            rep_events.extend(reps.flush())
            self._follow(out, rep_events, recruitment)
        return out

    @staticmethod
    def _follow(
        out: PipelineOutput, events: list[RepEvent], recruitment: RecruitmentTracker
    ) -> None:
        flags, risks = recruitment.process(events)
        out.reps.extend(events)
        out.flags.extend(flags)
        out.risks.extend(risks)
