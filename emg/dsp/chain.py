"""The streaming signal chain: band-pass, notch, envelope, baseline, onsets, median frequency.

One :class:`SignalChain` serves live, replay and offline analysis alike: it is fed
:class:`~emg.block.Block` objects of any size and returns what each block made known.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import signal

from emg.block import Block
from emg.dsp.baseline import BaselineEstimate, NoiseFloorBaseline, RestPeriodBaseline
from emg.dsp.chain_limits import SettingError, check_chain_settings, check_sample_rate
from emg.dsp.change_edge import BEFORE_CHANGE_S
from emg.dsp.envelope import RmsEnvelope, Tkeo
from emg.dsp.filters import (
    UPPER_EDGE_FRACTION,
    SosFilter,
    bandpass_edges,
    design_bandpass,
    design_notch,
)
from emg.dsp.gaps import BRIDGE_MEMORY_S, LostSampleBridge, mains_period
from emg.dsp.onset import Burst, Onset, OnsetDetector
from emg.dsp.spectral import MedianFrequencyTracker
from emg.dsp.startup import StartupTransient
from emg.dsp.stuck import StuckRunMarker, StuckStretch, stuck_run_samples

FloatArray = npt.NDArray[np.float64]


#: The share of their impulse response's energy the filters may have left to come when the
#: stream counts as settled (-40 dB: a start-up transient then adds about 1 % to the rest
#: power).
SETTLED_ENERGY = 1e-4

#: Rest envelope (RMS, microvolts) below which a channel measures nothing: a lead that came
#: off reads zero, an input stuck at one value is filtered to numerical residue (1e-12 uV).
#: No onset is detected there, where the threshold would fall to that residue and take it for
#: a burst. Three orders of magnitude below the quietest electrode's noise (about 1 uV).
NO_SIGNAL_UV = 1e-3

#: How far before its crossing each refinement places an onset at most, seconds: a fitted
#: edge needs room for a slow ramp (300 ms) to be seen rising from the noise; the
#: ``cusum-edge`` onset lies at most ``BEFORE_CHANGE_S`` before the CUSUM's change, itself at
#: most the CUSUM's span before the crossing.
REFINE_SPANS_S = {
    "cusum": 0.150,
    "edge": 0.400,
    "bonato": 0.150,
    "bayes": 0.400,
    "aglr": 0.150,
}
REFINE_SPANS_S["cusum-edge"] = REFINE_SPANS_S["cusum"] + BEFORE_CHANGE_S


@dataclass(frozen=True)
class ChainConfig:
    """Settings of the signal chain; defaults and their sources are in the README ("How it works").

    Attributes
    ----------
    highpass_hz, lowpass_hz
        Band-pass edges (SENIAM/ISEK: ~10-20 to ~450-500 Hz); the upper edge is limited to
        0.45 x the sample rate.
    bandpass_order
        Order of the whole Butterworth band-pass (poles).
    mains_hz
        Mains frequency to notch (with harmonics below the upper edge), or None for no notch.
    envelope_s
        Trailing RMS window (25-250 ms).
    detector
        ``"rms"`` (threshold on the RMS envelope) or ``"tkeo"`` (on the RMS of the
        Teager-Kaiser energy, better at low SNR).
    k
        Onset threshold: baseline mean + k x baseline SD of the detection envelope.
    offset_k
        Offset threshold (hysteresis), same form, lower than ``k``.
    hold_s, offset_hold_s
        Minimum time above the onset / below the offset threshold.
    refine_s
        How far before the threshold crossing the onset may be placed (0 = no refinement:
        the onset is the crossing); the default is that of the default refinement, each
        refinement's own is in :data:`REFINE_SPANS_S` (:meth:`with_refinement` takes it;
        ``ChainConfig(refinement=...)`` keeps this one).
    refinement
        How the onset is placed: ``"cusum-edge"`` (the default), the posterior median start
        of the rising edge, searched only from 30 ms before the CUSUM's change point
        (:mod:`emg.dsp.change_edge`); ``"cusum"``, a one-sided variance CUSUM up to the
        crossing;
        ``"edge"``, the start of the rising edge fitted to the signal up to the confirmation
        (:mod:`emg.dsp.edge_onset`): unbiased by slow recruitment but about twice as
        scattered at 5-10 dB, so not yet the default (see the README's family tables);
        ``"bayes"``, the posterior median start of the rising edge over its shape and ramp
        (:func:`~emg.dsp.edge_onset.posterior_edge_onset`), with the same room;
        ``"bonato"``, Bonato's double threshold (:mod:`emg.dsp.double_threshold`);
        ``"aglr"``, the maximum-likelihood start of a variance step fitted to the samples up
        to the crossing, Staude's AGLR-step (:mod:`emg.dsp.aglr`).
    refine_rho
        Variance ratio the refining CUSUM is tuned to.
    remove_crosstalk
        Take the crosstalk of a channel's partners (the other muscle of its side) out of it
        before its onset is placed (:mod:`emg.dsp.crosstalk`).
    mains_bridge
        With a mains notch, fill each run of lost samples with the channel's last mains cycle
        repeated, not with a level (:mod:`emg.dsp.gaps`): the mains goes on through the gap
        and the notch does not ring after it.
    rest
        Explicit rest period ``(start_s, end_s)`` for the baseline; None for the robust
        noise-floor estimate.
    baseline_window_s, baseline_warmup_s, baseline_horizon_s, baseline_update_s
        Noise-floor estimate: window, time before the first estimate, how far back windows
        count, and how often it is updated.
    mdf_window_s, mdf_hop_s
        Median-frequency window and spacing.
    settle_s
        Time the filters need to settle at the start of a stream: no onset starts before it
        and the noise-floor baseline ignores it. None (the default): the filters' start-up
        transient is fitted and taken out (:mod:`emg.dsp.startup`), mains ringing in the
        notch included, and the time is the band-pass's own (:func:`settling_time`, about
        0.09 s). A number: that time, and no transient taken out (sessions recorded before
        0.09 s was possible have 0.5).
    """

    highpass_hz: float = 20.0
    lowpass_hz: float = 450.0
    bandpass_order: int = 4
    mains_hz: float | None = None
    envelope_s: float = 0.050
    detector: str = "rms"
    k: float = 3.0
    offset_k: float = 1.5
    hold_s: float = 0.100
    offset_hold_s: float = 0.050
    refine_s: float = REFINE_SPANS_S["cusum-edge"]
    refinement: str = "cusum-edge"
    refine_rho: float = 4.0
    remove_crosstalk: bool = True
    mains_bridge: bool = True
    rest: tuple[float, float] | None = None
    baseline_window_s: float = 0.25
    baseline_warmup_s: float = 3.0
    baseline_horizon_s: float = 60.0
    baseline_update_s: float = 2.0
    mdf_window_s: float = 0.5
    mdf_hop_s: float = 0.5
    settle_s: float | None = None

    def __post_init__(self) -> None:
        check_chain_settings(self)

    def with_refinement(self, refinement: str) -> ChainConfig:
        """These settings with another onset refinement and that refinement's span.

        Raises
        ------
        SettingError
            ``refinement``: not one of :data:`~emg.dsp.onset.REFINEMENTS`.
        """
        span = REFINE_SPANS_S.get(refinement, self.refine_s)
        return replace(self, refinement=refinement, refine_s=span)

    def check_rate(self, sample_rate: float) -> None:
        """Check that these settings can run at ``sample_rate``.

        Raises
        ------
        EmgInputError
            For a sample rate below :data:`MIN_SAMPLE_RATE_HZ` or above
            :data:`~emg.recording.MAX_SAMPLE_RATE_HZ` (the recording is at fault).
        SettingError
            ``highpass_hz``: for a lower edge not below the upper edge the rate leaves
            (``min(lowpass_hz, 0.45 x sample_rate)``).
        """
        check_sample_rate(sample_rate)
        try:
            bandpass_edges(sample_rate, self.highpass_hz, self.lowpass_hz)
        except ValueError:
            upper = min(self.lowpass_hz, UPPER_EDGE_FRACTION * sample_rate)
            raise SettingError(
                "highpass_hz",
                f"the band-pass lower edge ({self.highpass_hz:g} Hz) must be below its upper "
                f"edge, which is {upper:g} Hz at {sample_rate:g} Hz sampling (the lower of "
                f"lowpass_hz and {UPPER_EDGE_FRACTION:g} x the sample rate)",
            ) from None

    def baseline_ready_s(self) -> float:
        """Seconds of signal needed before the first baseline estimate."""
        if self.rest is not None:
            return self.rest[1]
        return float(np.ceil(self.baseline_warmup_s / self.baseline_window_s)) * (
            self.baseline_window_s
        )


@dataclass
class ChainOutput:
    """What one block made known.

    Attributes
    ----------
    start
        Stream index of the block's first sample.
    filtered
        Band-passed (and notched) signal, ``(n_samples, n_channels)``, microvolts.
    envelope
        RMS envelope of ``filtered``, same shape.
    events
        Onsets and bursts confirmed in this block (they may refer to earlier samples).
    baselines
        Baseline estimates (of the detection envelope) that became valid in this block.
    amplitude_baselines
        Baseline estimates of the RMS envelope (the same objects when the detector is RMS).
    mdf_ends, mdf
        Median frequency windows that ended in this block: end index and Hz per channel.
    lost
        Samples of the block not recorded, like ``filtered`` (None: none was): lost in transit,
        or stuck.
    stuck
        Those of ``lost`` in which the channel's value stayed the same for too long to be a
        live signal (:mod:`emg.dsp.stuck`; None: none was).
    stuck_stretches
        The stretches of such samples that ended in this block, each whole (from the run's
        first sample, which may lie in an earlier block).
    """

    start: int
    filtered: FloatArray
    envelope: FloatArray
    events: list[Onset | Burst] = field(default_factory=list)
    baselines: list[BaselineEstimate] = field(default_factory=list)
    amplitude_baselines: list[BaselineEstimate] = field(default_factory=list)
    mdf_ends: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    mdf: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    lost: npt.NDArray[np.bool_] | None = None
    stuck: npt.NDArray[np.bool_] | None = None
    stuck_stretches: list[StuckStretch] = field(default_factory=list)


def settling_time(config: ChainConfig, sample_rate: float) -> float:
    """Seconds at the start of a stream in which the chain's output is not yet to be trusted.

    ``config.settle_s`` when it is set. Otherwise the chain takes its filters' start-up
    transient out (:class:`~emg.dsp.startup.StartupTransient`), and what is left is the time
    the band-pass takes until all but :data:`SETTLED_ENERGY` of its impulse response's energy
    has passed (the fit of the transient is then well determined), plus one envelope window,
    which must fill with settled samples.

    Parameters
    ----------
    config
        Chain settings.
    sample_rate
        Samples per second.

    Returns
    -------
    float
        Seconds.

    Examples
    --------
    >>> round(settling_time(ChainConfig(), 1000.0), 3)
    0.09
    >>> round(settling_time(ChainConfig(mains_hz=50.0), 1000.0), 3)  # the notch's is fitted
    0.09
    >>> settling_time(ChainConfig(settle_s=0.5), 1000.0)
    0.5
    """
    if config.settle_s is not None:
        return config.settle_s
    band = (config.highpass_hz, config.lowpass_hz, config.bandpass_order)
    return _bandpass_settling_s(sample_rate, *band) + config.envelope_s


def _bandpass(
    sample_rate: float, highpass_hz: float, lowpass_hz: float, order: int
) -> tuple[FloatArray, float]:
    """The chain's band-pass as SOS sections, and its upper edge (Hz)."""
    low, high = bandpass_edges(sample_rate, highpass_hz, lowpass_hz)
    return design_bandpass(sample_rate, low, high, order), high


@functools.lru_cache(maxsize=64)
def _bandpass_settling_s(
    sample_rate: float, highpass_hz: float, lowpass_hz: float, order: int
) -> float:
    """Seconds until all but :data:`SETTLED_ENERGY` of the band-pass's impulse response's
    energy has passed (the same for every chain with the same band-pass)."""
    sos, _ = _bandpass(sample_rate, highpass_hz, lowpass_hz, order)
    impulse = np.zeros(round(10.0 * sample_rate))
    impulse[0] = 1.0
    energy = np.square(signal.sosfilt(sos, impulse))
    still_to_come = np.cumsum(energy[::-1])[::-1]
    return int(np.argmax(still_to_come < SETTLED_ENERGY * still_to_come[0])) / sample_rate


class SignalChain:
    """Causal EMG processing for a fixed set of channels at one sample rate.

    Parameters
    ----------
    config
        Chain settings.
    sample_rate
        Samples per second.
    n_channels
        Number of channels.
    partners
        For each channel, the channels over neighbouring muscles whose crosstalk it may carry
        (glute and hamstring of one side); their crosstalk is taken out before an onset is
        placed when ``config.remove_crosstalk`` is on (:mod:`emg.dsp.crosstalk`). None: no
        channel has partners.
    """

    def __init__(
        self,
        config: ChainConfig,
        sample_rate: float,
        n_channels: int,
        partners: Sequence[Sequence[int]] | None = None,
    ) -> None:
        config.check_rate(sample_rate)
        self.config, self.fs, self.n_channels = config, sample_rate, n_channels
        fs = sample_rate
        sos, high = _bandpass(fs, config.highpass_hz, config.lowpass_hz, config.bandpass_order)
        if config.mains_hz is not None:
            sos = np.concatenate([sos, design_notch(fs, config.mains_hz, high)])
        #: samples at the start of the stream in which the filters settle (see
        #: :func:`settling_time`)
        self.settle = round(settling_time(config, fs) * fs)
        self._startup = StartupTransient(sos, n_channels) if config.settle_s is None else None
        cycle = None
        if config.mains_hz is not None and config.mains_bridge:
            cycle = mains_period(fs, config.mains_hz)
        memory = max(self.samples(BRIDGE_MEMORY_S), cycle or 1)
        stuck_run = stuck_run_samples(fs)
        self._stuck = StuckRunMarker(n_channels, stuck_run)
        self._bridge = LostSampleBridge(n_channels, memory, cycle, held=stuck_run - 1)
        self._filter = SosFilter(sos, n_channels)
        self._envelope = RmsEnvelope(self.samples(config.envelope_s), n_channels)
        self._tkeo = Tkeo(n_channels) if config.detector == "tkeo" else None
        self._tkeo_envelope = (
            RmsEnvelope(self.samples(config.envelope_s), n_channels) if self._tkeo else None
        )
        self._baseline = self._make_baseline()
        self._amplitude_baseline = self._make_baseline() if self._tkeo else self._baseline
        self._detector = OnsetDetector(
            n_channels,
            hold=self.samples(config.hold_s),
            offset_hold=self.samples(config.offset_hold_s),
            refine_span=self.samples(config.refine_s) if config.refine_s > 0 else 0,
            refine_rho=config.refine_rho,
            refinement=config.refinement,
            sample_rate=fs,
            change_span=self.samples(REFINE_SPANS_S["cusum"]),
            partners=partners if config.remove_crosstalk else None,
        )
        self._mdf = MedianFrequencyTracker(
            fs, self.samples(config.mdf_window_s), self.samples(config.mdf_hop_s), n_channels
        )
        self._position = 0
        self._detection_timeline = BaselineTimeline()
        self._amplitude_timeline = BaselineTimeline()
        self._pending: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._threshold_cache: (
            tuple[BaselineEstimate, BaselineEstimate, tuple[FloatArray, FloatArray, FloatArray]]
            | None
        ) = None

    def samples(self, seconds: float) -> int:
        """Whole number of samples (at least one) in ``seconds``."""
        return max(1, round(seconds * self.fs))

    def _make_baseline(self) -> NoiseFloorBaseline | RestPeriodBaseline:
        config = self.config
        if config.rest is not None:
            start, stop = (round(t * self.fs) for t in config.rest)
            # the filters' start-up response is not rest: a rest period that begins with the
            # stream begins once they settled, if at least a second of it is left
            if start < self.settle and stop - self.settle >= self.fs:
                start = self.settle
            return RestPeriodBaseline(start, stop, self.n_channels)
        window = self.samples(config.baseline_window_s)
        return NoiseFloorBaseline(
            window,
            warmup=self.samples(config.baseline_warmup_s),
            horizon=self.samples(config.baseline_horizon_s),
            n_channels=self.n_channels,
            update=max(1, round(config.baseline_update_s / config.baseline_window_s)) * window,
            ignore_before=self.settle,
            guard=self.samples(config.envelope_s),
        )

    @property
    def position(self) -> int:
        """Number of samples consumed so far (stream index of the next sample)."""
        return self._position

    def process(self, block: Block) -> ChainOutput:
        """Run one block through the chain.

        Parameters
        ----------
        block
            The next block of the stream; its channels must match the chain's.

        Returns
        -------
        ChainOutput
            Filtered signal and envelope of the block, and every event it made known.
        """
        if block.data.shape[1] != self.n_channels:
            raise ValueError(
                f"block has {block.data.shape[1]} channels, "
                f"the chain was built for {self.n_channels}"
            )
        if block.sample_rate != self.fs:
            raise ValueError(f"block sample rate {block.sample_rate:g} Hz != chain {self.fs:g} Hz")
        lost = block.lost if block.lost.shape == block.data.shape else None
        return self.process_array(block.data, lost)

    def process_array(
        self, x: npt.NDArray[np.floating[Any]], lost: npt.NDArray[np.bool_] | None = None
    ) -> ChainOutput:
        """Run the next ``(n_samples, n_channels)`` samples (any float dtype) through the chain.

        ``lost`` marks samples lost in transit (zero-filled); samples that keep a channel's
        value for too long are marked too (:mod:`emg.dsp.stuck`). Each run of them is bridged
        with the mean of its channel's last received samples before the filters (see
        :mod:`emg.dsp.gaps`); the noise-floor baseline leaves them, and the filters'
        response to them, out (see :class:`NoiseFloorBaseline`), and so does the onset
        refinement (an onset hidden in a gap is put at its middle).
        """
        start = self._position
        self._position += len(x)
        # a channel that stopped changing is not recorded; samples lost in transit (zero-filled)
        # are lost, not stuck: the zeros they arrive as are no value received
        received = x if lost is None or not lost.any() else np.where(lost, np.nan, x)
        stuck = self._stuck.process(received)
        if stuck is not None:
            lost = stuck if lost is None else lost | stuck
        # one sample-major float64 copy, filtered in place; every stage works on it as is
        filtered = self._filter.filter_samples(self._bridge.process(x, lost))
        if self._startup is not None:
            filtered = self._startup.process(filtered)
        envelope = self._envelope.process(filtered)
        amplitude_estimates = self._amplitude_baseline.process(envelope, lost)
        if self._tkeo is not None and self._tkeo_envelope is not None:
            detection = self._tkeo_envelope.process(self._tkeo.process(filtered))
            estimates = self._baseline.process(detection, lost)
        else:
            detection, estimates = envelope, amplitude_estimates
        output = ChainOutput(
            start,
            filtered,
            envelope,
            baselines=estimates,
            amplitude_baselines=amplitude_estimates,
            lost=lost if lost is not None and lost.any() else None,
            stuck=stuck,
            stuck_stretches=self._stuck.ended,
        )
        refinement = filtered
        if lost is not None and lost.any():  # NaN: left out of the onset refinement
            refinement = filtered.copy()
            refinement[lost] = np.nan
        output.events = self._detect(
            refinement, detection, envelope, estimates, amplitude_estimates
        )
        output.mdf_ends, output.mdf = self._mdf.process_rows(filtered.T)
        return output

    def _detect(
        self,
        filtered: FloatArray,
        detection: FloatArray,
        envelope: FloatArray,
        estimates: list[BaselineEstimate],
        amplitude_estimates: list[BaselineEstimate],
    ) -> list[Onset | Burst]:
        """Detection on sample-major arrays ``(n_samples, n_channels)``."""
        if estimates:
            self._detection_timeline.add(estimates)
        if amplitude_estimates:
            self._amplitude_timeline.add(amplitude_estimates)
        if not self._detection_timeline.ready:
            self._pending.append((filtered, detection, envelope))
            return []
        if self._pending:
            # blocks held back until the first baseline: detect in them now, one by one (the
            # detector gives the same events for any blocking)
            parts, self._pending = [*self._pending, (filtered, detection, envelope)], []
            start = self._position - sum(len(part[1]) for part in parts)
            events: list[Onset | Burst] = []
            for part in parts:
                events += self._detect_block(start, *part)
                start += len(part[1])
            return events
        return self._detect_block(self._position - len(detection), filtered, detection, envelope)

    def _detect_block(
        self, start: int, filtered: FloatArray, detection: FloatArray, envelope: FloatArray
    ) -> list[Onset | Burst]:
        """Detection in the sample-major block of stream samples ``start ..``."""
        n = len(detection)
        on_threshold, off_threshold, noise_power, spans = self._thresholds(start, n)
        settle = self.settle
        if start < settle:
            # the filters are still settling: no onset may start here (a span of its own)
            ends = np.cumsum(spans) if spans is not None else np.array([n])
            cut = min(settle - start, n)
            bounds = np.union1d(ends, [cut])
            columns = np.minimum(np.searchsorted(ends, bounds), len(ends) - 1)
            on_threshold, off_threshold, noise_power = (
                values[:, columns] for values in (on_threshold, off_threshold, noise_power)
            )
            on_threshold[:, : int(np.searchsorted(bounds, cut)) + 1] = np.inf
            spans = np.diff(bounds, prepend=0)
        # channel-major copies of the envelopes: the detector compares and scans them by row
        rows = np.ascontiguousarray(detection.T)
        return self._detector.process_rows(
            filtered.T,
            rows,
            on_threshold=on_threshold,
            off_threshold=off_threshold,
            noise_power=noise_power,
            amplitude=rows if envelope is detection else np.ascontiguousarray(envelope.T),
            spans=spans,
        )

    def _thresholds(
        self, start: int, n: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.intp] | None]:
        """Onset and offset thresholds and rest power for samples ``start .. start + n``.

        Channel-major and piecewise constant: ``(n_channels, n_spans)`` each and the number of
        samples each column applies to (their sum is ``n``), or ``(n_channels, 1)`` and None
        when one baseline applies to all of them (the common case in streaming, cached until
        the baseline changes).
        """
        detection = self._detection_timeline.single(start, n)
        amplitude = self._amplitude_timeline.single(start, n)
        config = self.config
        if detection is not None and amplitude is not None:
            cached = self._threshold_cache
            if cached is not None and cached[0] is detection and cached[1] is amplitude:
                return (*cached[2], None)
            mean, std = detection.mean[:, None], detection.std[:, None]
            rest_mean, rest_std = amplitude.mean[:, None], amplitude.std[:, None]
            values = (
                _measuring(mean + config.k * std, rest_mean),
                mean + config.offset_k * std,
                rest_mean**2 + rest_std**2,
            )
            self._threshold_cache = (detection, amplitude, values)
            return (*values, None)
        detections, counts = self._detection_timeline.spans(start, n)
        amplitudes, amplitude_counts = self._amplitude_timeline.spans(start, n)
        # per estimate, then per span: the same values as per-sample arithmetic
        mean = np.array([e.mean for e in detections]).T
        std = np.array([e.std for e in detections]).T
        rest_mean = np.array([e.mean for e in amplitudes]).T
        rest_std = np.array([e.std for e in amplitudes]).T
        on, off = _measuring(mean + config.k * std, rest_mean), mean + config.offset_k * std
        power = rest_mean**2 + rest_std**2
        if not np.array_equal(counts, amplitude_counts):
            # the two baselines change at different samples: spans between any two changes
            ends, amplitude_ends = np.cumsum(counts), np.cumsum(amplitude_counts)
            bounds = np.union1d(ends, amplitude_ends)
            on, off = (v[:, np.searchsorted(ends, bounds)] for v in (on, off))
            power = power[:, np.searchsorted(amplitude_ends, bounds)]
            counts = np.diff(bounds, prepend=0)
        return on, off, power, counts

    def flush(self) -> list[Onset | Burst]:
        """Close bursts still open at the end of the stream."""
        return self._detector.flush()

    def open_stuck(self) -> list[StuckStretch]:
        """The stretches of stuck samples not ended yet, each up to its last sample so far."""
        return self._stuck.open_stretches()

    def flush_stuck(self) -> list[StuckStretch]:
        """End the stretches of stuck samples still open at the end of the stream."""
        return self._stuck.flush()


class BaselineTimeline:
    """Baseline estimates in force over time, as per-sample arrays.

    An estimate applies from its ``valid_from`` sample until the next one; samples before the
    first estimate use the first.
    """

    def __init__(self) -> None:
        self._estimates: list[BaselineEstimate] = []

    @property
    def ready(self) -> bool:
        """True once an estimate exists."""
        return bool(self._estimates)

    def add(self, estimates: list[BaselineEstimate]) -> None:
        """Append estimates (in time order)."""
        self._estimates.extend(estimates)

    def single(self, start: int, n: int) -> BaselineEstimate | None:
        """The estimate in force for all samples ``start .. start + n``, if only one is."""
        estimates = self._estimates
        while len(estimates) > 1 and estimates[1].valid_from <= start:
            estimates.pop(0)
        if len(estimates) == 1 or (estimates and estimates[1].valid_from >= start + n):
            return estimates[0]
        return None

    def spans(self, start: int, n: int) -> tuple[list[BaselineEstimate], npt.NDArray[np.intp]]:
        """Estimates in force over samples ``start .. start + n`` and how many samples each."""
        estimates = self._estimates
        while len(estimates) > 1 and estimates[1].valid_from <= start:
            estimates.pop(0)
        boundaries = [min(max(e.valid_from - start, 0), n) for e in estimates[1:]]
        return list(estimates), np.diff([0, *boundaries, n])


def _measuring(on_threshold: FloatArray, rest_mean: FloatArray) -> FloatArray:
    """The onset threshold, infinite where the rest envelope is below :data:`NO_SIGNAL_UV`
    (the channel measures nothing: no onset there)."""
    return np.where(rest_mean < NO_SIGNAL_UV, np.inf, on_threshold)
