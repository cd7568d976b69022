"""Offline analysis: a whole recording through the same streaming chain, in large blocks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from emg.analysis.pipeline import AnalysisConfig, MusclePair, PipelineOutput, SessionPipeline
from emg.analysis.recruitment import CrampRisk, Flag
from emg.analysis.reps import Rep
from emg.block import Channel
from emg.dsp.baseline import BaselineEstimate
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.dsp.filters import detect_mains
from emg.dsp.onset import Burst, Onset
from emg.errors import EmgInputError
from emg.real_number import real_number
from emg.recording import Recording

FloatArray = npt.NDArray[np.float64]

#: Offline block size: large enough to amortise per-block overhead, small enough for the cache
#: (a multiple of the envelope's anchor period).
OFFLINE_BLOCK = 131072


@dataclass
class OfflineResult:
    """Everything the chain made known about a recording.

    Attributes
    ----------
    sample_rate, channels
        Of the recording.
    config
        The chain settings used (mains resolved).
    analysis
        All analysis settings (exercise, normalisation, ...).
    bursts
        Bursts of all channels in the order they were decided.
    onsets
        Confirmed onsets, in the order they were decided.
    envelope
        RMS envelope ``(n_samples, n_channels)`` (empty unless kept).
    baselines
        Baseline estimates of the RMS envelope as they became valid.
    mdf_times, mdf
        Median frequency per window end (seconds) and channel (Hz).
    pairs
        Glute/hamstring pairs analysed (one per side).
    reps
        Every rep of every pair, in the order they were completed.
    flags
        Flags raised and cleared, in the order they were decided.
    risks
        Cramp-risk changes, in order.
    """

    sample_rate: float
    channels: tuple[Channel, ...]
    config: ChainConfig
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    bursts: list[Burst] = field(default_factory=list)
    onsets: list[Onset] = field(default_factory=list)
    envelope: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    baselines: list[BaselineEstimate] = field(default_factory=list)
    mdf_times: FloatArray = field(default_factory=lambda: np.zeros(0))
    mdf: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    pairs: list[MusclePair] = field(default_factory=list)
    reps: list[Rep] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    risks: list[CrampRisk] = field(default_factory=list)

    def bursts_of(self, channel: int) -> list[Burst]:
        """Bursts of one channel, in time order."""
        return sorted((b for b in self.bursts if b.channel == channel), key=lambda b: b.onset)


#: What the mains setting takes (``--mains``, ``mains=``): ``auto`` (picked from the
#: recording), ``off`` (no notch), or the mains frequency in Hz.
MAINS_CHOICES = ("auto", "off", "50", "60")


def mains_choice(mains: object) -> str | None:
    """``mains`` as one of :data:`MAINS_CHOICES`, as the command line takes it; the numbers 50
    and 60 are ``"50"`` and ``"60"``; None stays None.

    Raises
    ------
    SettingError
        Naming ``mains`` and the choices, for anything else.

    Examples
    --------
    >>> mains_choice(50), mains_choice("off"), mains_choice(None)
    ('50', 'off', None)
    """
    if mains is None:
        return None
    if isinstance(mains, str) and mains in MAINS_CHOICES:
        return mains
    number = real_number(mains)
    if number in (50.0, 60.0):
        return "50" if number == 50.0 else "60"
    choices = f"{', '.join(MAINS_CHOICES[:-1])} or {MAINS_CHOICES[-1]}"
    raise SettingError("mains", f"expected {choices}, got {mains!r}")


def resolve_mains(
    recording: Recording, config: ChainConfig, mains: str | float | None
) -> ChainConfig:
    """Return ``config`` with its mains notch decided.

    Parameters
    ----------
    recording
        The recording; ``"auto"`` looks at its rest period (or its first baseline warm-up).
    config
        Chain settings.
    mains
        ``"auto"``, ``"off"``/None, 50 or 60.

    Returns
    -------
    ChainConfig
        A copy with ``mains_hz`` set.

    Raises
    ------
    EmgInputError
        For ``"auto"`` on a recording the analysis cannot run on (:func:`check_recording`).
    SettingError
        For a ``mains`` that is none of these (:func:`mains_choice`).
    """
    mains = mains_choice(mains)
    if mains is None or mains == "off":
        return dataclasses.replace(config, mains_hz=None)
    if mains == "auto":
        check_recording(recording, config)
        fs = recording.sample_rate
        start, stop = config.rest or (0.0, config.baseline_warmup_s)
        rest = recording.data[round(start * fs) : round(stop * fs)].astype(np.float64)
        return dataclasses.replace(config, mains_hz=detect_mains(rest, fs) if len(rest) else None)
    return dataclasses.replace(config, mains_hz=float(mains))


def analyze_recording(
    recording: Recording,
    config: ChainConfig | AnalysisConfig,
    block_size: int = OFFLINE_BLOCK,
    keep_envelope: bool = True,
) -> OfflineResult:
    """Feed a whole recording through the streaming chain.

    Parameters
    ----------
    recording
        What to analyse.
    config
        Analysis settings, or only the chain's (with the mains notch already decided).
    block_size
        Samples per block; any value gives the same result.
    keep_envelope
        Keep the full RMS envelope in the result.

    Returns
    -------
    OfflineResult
        Bursts, onsets, baselines, median frequencies, reps, flags, cramp risk and
        optionally the envelope.

    Raises
    ------
    EmgInputError
        If the recording is too short for a baseline or its sample rate too low (see
        :func:`check_recording`).
    """
    analysis = config if isinstance(config, AnalysisConfig) else AnalysisConfig(chain=config)
    fs = recording.sample_rate
    check_recording(recording, analysis.chain)
    pipeline = SessionPipeline(recording.channels, fs, analysis)
    result = OfflineResult(fs, recording.channels, analysis.chain, analysis, pairs=pipeline.pairs)
    envelopes: list[FloatArray] = []
    mdf_ends: list[npt.NDArray[np.int64]] = []
    mdfs: list[FloatArray] = []
    if block_size < 1:
        raise ValueError(f"block size must be at least 1 sample, got {block_size}")
    data = recording.data
    lost = recording.lost if recording.lost.shape == data.shape and recording.lost.any() else None
    for start in range(0, recording.n_samples, block_size):
        part = lost[start : start + block_size] if lost is not None else None
        output = pipeline.process_array(data[start : start + block_size], part)
        out = output.chain
        _collect(result, output)
        result.baselines.extend(out.amplitude_baselines)
        if keep_envelope:
            envelopes.append(out.envelope)
        mdf_ends.append(out.mdf_ends)
        mdfs.append(out.mdf)
    _collect(result, pipeline.flush())
    n_ch = len(recording.channels)
    if keep_envelope:
        result.envelope = np.concatenate(envelopes) if envelopes else np.zeros((0, n_ch))
    result.mdf_times = np.concatenate(mdf_ends) / fs
    result.mdf = np.concatenate([m.reshape(-1, n_ch) for m in mdfs])
    return result


def check_recording(recording: Recording, config: ChainConfig) -> None:
    """Check that the analysis can run on ``recording`` with ``config``.

    Parameters
    ----------
    recording
        What is to be analysed.
    config
        The chain settings.

    Raises
    ------
    EmgInputError
        Naming the recording and saying what is needed: a channel, a sample rate of at least
        :data:`~emg.dsp.chain_limits.MIN_SAMPLE_RATE_HZ` (and a plausible one), a band-pass
        whose lower edge is below the upper edge the rate leaves (the setting is named), and
        enough samples for the first baseline (the rest period, or the noise-floor warm-up).
    """
    source = recording.source or None
    if not recording.channels:
        raise EmgInputError("no channel to analyse", source=source)
    try:
        config.check_rate(recording.sample_rate)
    except SettingError as error:
        raise EmgInputError(str(error), source=source) from None
    except EmgInputError as error:
        raise EmgInputError(error.detail, source=source) from None
    reason = too_short_for_baseline(recording.n_samples, recording.sample_rate, config)
    if reason is not None:
        raise EmgInputError(reason, source=source)


def too_short_for_baseline(n_samples: int, sample_rate: float, config: ChainConfig) -> str | None:
    """Why ``n_samples`` at ``sample_rate`` are too few for the analysis to start, or None.

    The analysis needs the first baseline (the rest period, or the noise-floor warm-up,
    :meth:`~emg.dsp.chain.ChainConfig.baseline_ready_s`) before it can find an onset. This
    is the one rule for it: :func:`check_recording` refuses a recording by it (``emg
    analyze``, ``emg report``, ``emg replay``, :func:`emg.analyze`), and a live recording that
    ended this short is told it in the same words (``emg record``).

    Parameters
    ----------
    n_samples
        Samples per channel recorded.
    sample_rate
        Samples per second per channel.
    config
        The chain settings.

    Returns
    -------
    str or None
        ``too little data for a baseline: ...`` saying how much was recorded and how much is
        needed; None when there is enough.

    Examples
    --------
    >>> print(too_short_for_baseline(4000, 2000.0, ChainConfig()))
    too little data for a baseline: 2.00 s (4000 samples) recorded, at least 3 s needed ...
    >>> too_short_for_baseline(6000, 2000.0, ChainConfig()) is None
    True
    """
    needed = config.baseline_ready_s()
    duration = n_samples / sample_rate
    if n_samples >= 2 and duration >= needed:
        return None
    return (
        f"too little data for a baseline: {duration:.2f} s ({n_samples} samples) recorded, "
        f"at least {needed:g} s needed (ideally a quiet rest at the start)"
    )


def _collect(result: OfflineResult, output: PipelineOutput) -> None:
    for event in output.chain.events:
        if isinstance(event, Burst):
            result.bursts.append(event)
        else:
            result.onsets.append(event)
    result.reps.extend(e.rep for e in output.reps if e.kind == "completed")
    result.flags.extend(output.flags)
    result.risks.extend(output.risks)
