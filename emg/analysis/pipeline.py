"""The whole causal analysis of a stream: signal chain, reps, flags and cramp risk.

The same :class:`SessionPipeline` serves live acquisition, replay and offline analysis. Muscles
with ``_left``/``_right`` suffixes are paired per side (the glute and the hamstring of one leg).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emg.analysis.exercises import ExerciseConfig
from emg.analysis.normalisation import Normalisation
from emg.analysis.recruitment import CrampRisk, Flag, RecruitmentTracker, RiskConfig
from emg.analysis.reps import RepConfig, RepEvent, RepTracker
from emg.block import Block, Channel
from emg.dsp.chain import ChainConfig, ChainOutput, SignalChain
from emg.muscles import MUSCLE_GROUPS


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
    """

    chain: ChainConfig = field(default_factory=ChainConfig)
    exercise: ExerciseConfig = field(default_factory=ExerciseConfig)
    normalisation: Normalisation = field(default_factory=Normalisation)
    risk: RiskConfig = field(default_factory=RiskConfig)
    reps: RepConfig = field(default_factory=RepConfig)


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
        self.chain = SignalChain(config.chain, sample_rate, len(channels))
        chain_config = config.chain
        delay = self.chain.samples(chain_config.hold_s) + (
            self.chain.samples(chain_config.refine_s) if chain_config.refine_s > 0 else 0
        )
        rep_config = RepConfig(**{**config.reps.__dict__, "margin_ms": config.exercise.margin_ms})
        self.pairs = muscle_pairs(channels)
        self.rep_trackers = [
            RepTracker(
                (pair.glute, pair.hamstring),
                sample_rate,
                decision_delay=delay,
                config=rep_config,
                normalisation=config.normalisation,
                side=pair.side,
                settle=self.chain.samples(chain_config.settle_s),
            )
            for pair in self.pairs
        ]
        self.recruitment = [
            RecruitmentTracker(config.exercise, pair.side, config.risk) for pair in self.pairs
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
                chain.start, chain.filtered, chain.envelope, chain.events, chain.amplitude_baselines
            )
            self._follow(out, events, recruitment)
        return out

    def flush(self) -> PipelineOutput:
        """End of the stream: close open bursts and reps."""
        events = self.chain.flush()
        n = len(self.channels)
        empty = np.zeros((0, n))
        out = PipelineOutput(ChainOutput(self.chain.position, empty, empty, events=list(events)))
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
