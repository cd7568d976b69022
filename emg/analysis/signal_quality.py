"""Signal-quality check at rest, per channel, before calibration.

A few seconds of raw samples taken while the athlete is still and relaxed tell whether each
sensor is usable. Five problems are looked for, each reported with a plain message and a plain
remedy that the live window shows and the session stores:

``flat``
    No signal: near-zero variation, or stuck at one value (a rail) for a long stretch. The
    electrode is off, the lead unplugged or the sensor not streaming.
``clipping``
    Runs of samples at the ADC's limit (the sensor profile's range when given, otherwise the
    channel's own extreme value repeated): a loose electrode or a large offset saturates the
    amplifier, and a saturated signal loses the muscle activity.
``mains``
    Mains hum (50 or 60 Hz and harmonics) far above the rest of the EMG band: high or
    unbalanced electrode impedance, or a charger or mains cable close by.
``noise``
    Baseline noise after the band-pass (and the mains notch) too high for a usable onset
    threshold: poor skin contact or dried-out electrodes.
``motion``
    Power below 20 Hz (movement artefact, baseline wander) large compared with the EMG band:
    the athlete moved or the cable swings.

Everything here is pure numerics on arrays: no I/O, no Qt. Spectra come from
:func:`emg.dsp.spectral.welch_power`, the numbers of :func:`scipy.signal.welch` (Hann, linear
trend removed per segment; 1 s segments for mains, 4 s for the motion band); hum is named by
the analysis's own mains detector (:func:`emg.dsp.filters.detect_mains`); the rest RMS comes
from the signal chain's own causal band-pass and notch (:mod:`emg.dsp.filters`), so it is the
noise the onset threshold will actually see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.dsp.filters import (
    SosFilter,
    bandpass_edges,
    design_bandpass,
    design_notch,
    detect_mains,
)
from emg.dsp.spectral import welch_power
from emg.wording import (
    CLIPPING_REMEDY,
    FLAT_REMEDY,
    MAINS_REMEDY,
    MOTION_REMEDY,
    NOISE_REMEDY,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: mains frequencies tried when the configuration does not fix one
MAINS_CANDIDATES_HZ = (50.0, 60.0)
#: ratios in dB are kept within these limits (no -inf for a clean channel, JSON-ready)
RATIO_FLOOR_DB = -60.0
RATIO_CEILING_DB = 120.0
#: Welch segment for the motion band (0.25 Hz resolution)
MOTION_SEGMENT_S = 4.0


#: Standard deviation (microvolts) below which a channel is flat: an order of magnitude below
#: the input noise of any EMG front end the toolkit supports (see ``QualityConfig.flat_sd_uv``).
FLAT_SD_UV = 0.1


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the rest signal-quality check; each default with its reason.

    Attributes
    ----------
    highpass_hz, lowpass_hz, bandpass_order
        The EMG band, as the signal chain's defaults (20-450 Hz, 4th-order
        Butterworth, SENIAM/ISEK); the upper edge follows Nyquist, ``min(450, 0.45 fs)``, so
        200 Hz sensors (Ganglion, Myo) get 20-90 Hz.
    mains_hz
        Mains frequency, 50 or 60 Hz; None tries both and reports the one that stands out.
    settle_s
        Start of the filtered signal left out of the RMS: the causal band-pass (20 Hz, 2 poles
        per edge) has rung out well within 0.25 s.
    flat_sd_uv
        Below this standard deviation (raw, microvolts) the channel is flat. 0.1 uV is an order
        of magnitude below the input noise of any EMG front end the toolkit supports, so a
        connected electrode on skin cannot be that quiet.
    flat_run_s
        A run of identical consecutive samples this long means the signal is stuck (a frozen
        ADC, a lead-off rail). Even a coarse 12-bit, 4 uV/count sensor changes value within
        milliseconds on live skin; 0.5 s is also far longer than one lost BLE packet
        (filled with zeros, ~20 ms).
    clip_run
        Consecutive samples at the ADC's limit (or the channel's extreme, repeated) that count
        as clipping. One sample at the limit can be chance; three in a row at exactly the
        extreme value do not happen in a continuous signal without saturation.
    adc_tolerance
        A sample within this fraction of the ADC span from a limit counts as at the limit
        (the profile's range in microvolts is rounded).
    mains_max_db
        Mains power (fundamental and harmonics in the band) above the remaining band power by
        more than this is a problem. At 20 dB the hum's amplitude is 10x the rest noise: the
        electrode-skin impedance is high or unbalanced (common-mode rejection falls with
        impedance mismatch), and what survives the notch (mains drifts by +-0.1-0.2 Hz, the
        notch is ~2 Hz wide) is no longer small against the rest noise.
    mains_halfwidth_hz
        Half-width around each harmonic counted as mains (the Hann main lobe of a 1 s
        segment is +-2 Hz).
    noise_max_uv
        Band-passed rest RMS above this (microvolts) is a problem. With good skin preparation
        resting sEMG noise is a few uV RMS: Konrad (2005, "The ABC of EMG") asks for a
        baseline of at most 3-5 uV, ideally 1-2 uV, and De Luca et al. (2010, J Biomech
        43:1573) report baseline noise of the same order for well-prepared electrodes.
        Consumer sensors (12-bit ADCs at ~4 uV per count, gel electrodes put on by the
        athlete) rarely reach the lab target, so the limit is 4x its upper end: 20 uV still
        leaves a moderate hip-thrust contraction (typically 100-300 uV RMS on the gluteus
        maximus) 15-25 dB above rest, enough for a mean + 3 SD onset threshold; above it the
        threshold climbs into the contraction's ramp and onsets come late.
    motion_low_hz
        Lower end of the motion/wander band. Drift slower than 2 Hz is removed by the
        chain's 20 Hz high-pass by more than 40 dB and does not matter.
    motion_max_db
        Power in ``motion_low_hz``-``highpass_hz`` above the band power by more than this is a
        problem. The 20 Hz high-pass (12 dB/octave) attenuates 2-10 Hz content by at least
        12 dB, so at +10 dB what leaks through is about as strong as the rest noise itself:
        it inflates the baseline SD and the onset threshold, and a cable that moves at rest
        moves far more during a set. Movement artefact lies mostly below 20 Hz (De Luca et
        al. 2010).
    min_duration_s
        Shortest segment checked: Welch needs at least one 1 s segment.
    """

    highpass_hz: float = 20.0
    lowpass_hz: float = 450.0
    bandpass_order: int = 4
    mains_hz: float | None = None
    settle_s: float = 0.5
    flat_sd_uv: float = FLAT_SD_UV
    flat_run_s: float = 0.5
    clip_run: int = 3
    adc_tolerance: float = 1e-4
    mains_max_db: float = 20.0
    mains_halfwidth_hz: float = 2.0
    noise_max_uv: float = 20.0
    motion_low_hz: float = 2.0
    motion_max_db: float = 10.0
    min_duration_s: float = 1.0

    def __post_init__(self) -> None:
        if self.mains_hz is not None and self.mains_hz not in MAINS_CANDIDATES_HZ:
            raise ValueError(f"mains must be 50 or 60 Hz, got {self.mains_hz:g}")
        if not 0 < self.motion_low_hz < self.highpass_hz:
            raise ValueError("the motion band must lie below the band-pass's lower edge")
        if self.clip_run < 1:
            raise ValueError(f"clip_run must be at least 1 sample, got {self.clip_run}")
        if self.min_duration_s < 1.0:
            raise ValueError("the check needs at least 1 s of samples (one Welch segment)")


@dataclass(frozen=True)
class QualityProblem:
    """One problem found on a channel.

    Attributes
    ----------
    code
        ``flat``, ``clipping``, ``mains``, ``noise`` or ``motion``.
    message
        What is wrong, in plain words, with the measured value.
    remedy
        What the athlete should do about it.
    """

    code: str
    message: str
    remedy: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"code": self.code, "message": self.message, "remedy": self.remedy}


@dataclass(frozen=True)
class ChannelQuality:
    """The check's result for one channel.

    Attributes
    ----------
    label
        Channel label.
    ok
        True when no problem was found.
    rms_uv
        RMS of the band-passed, mains-notched rest signal, microvolts.
    mains_ratio_db
        Mains power over the remaining EMG-band power, dB (floored at -60 dB).
    motion_ratio_db
        Power below the band (``motion_low_hz``-``highpass_hz``) over the EMG-band power, dB.
    problems
        What was found, most basic first (a flat channel reports nothing else).
    """

    label: str
    ok: bool
    rms_uv: float
    mains_ratio_db: float
    motion_ratio_db: float
    problems: tuple[QualityProblem, ...] = ()

    def codes(self) -> tuple[str, ...]:
        """Codes of the problems, in order."""
        return tuple(p.code for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "label": self.label,
            "ok": self.ok,
            "rms_uv": self.rms_uv,
            "mains_ratio_db": self.mains_ratio_db,
            "motion_ratio_db": self.motion_ratio_db,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class QualityReport:
    """The check's result for all channels.

    Attributes
    ----------
    channels
        One result per channel, in column order.
    sample_rate
        Of the checked samples, Hz.
    duration_s
        Length of the checked segment.
    mains_hz
        Mains frequency the ratios refer to (the configured one, or the one that stood out).
    band_hz
        EMG band used, ``(low, high)`` Hz.
    """

    channels: tuple[ChannelQuality, ...]
    sample_rate: float
    duration_s: float
    mains_hz: float
    band_hz: tuple[float, float]

    @property
    def ok(self) -> bool:
        """True when every channel is fine: the overall verdict."""
        return all(channel.ok for channel in self.channels)

    def problems(self) -> list[tuple[str, QualityProblem]]:
        """Every problem as ``(channel label, problem)``, channel by channel."""
        return [(c.label, p) for c in self.channels for p in c.problems]

    def remedies(self) -> list[str]:
        """The distinct remedies to show, in the order of the problems."""
        return list(dict.fromkeys(p.remedy for _, p in self.problems()))

    def verdict(self) -> str:
        """One plain sentence (or a few) for the live window."""
        if self.ok:
            return "Signals look good: ready to calibrate."
        found = "; ".join(f"{label}: {p.message}" for label, p in self.problems())
        return f"Fix before calibrating. {found}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the session metadata."""
        return {
            "ok": self.ok,
            "verdict": self.verdict(),
            "sample_rate": self.sample_rate,
            "duration_s": self.duration_s,
            "mains_hz": self.mains_hz,
            "band_hz": list(self.band_hz),
            "channels": [c.to_dict() for c in self.channels],
        }


@dataclass(frozen=True)
class RestSpectrum:
    """Welch power spectral density of a rest segment.

    Attributes
    ----------
    freqs
        Frequencies, Hz, shape ``(n_freqs,)``.
    psd
        Power spectral density, uV^2/Hz, shape ``(n_freqs, n_channels)``.
    """

    freqs: FloatArray
    psd: FloatArray

    @property
    def resolution_hz(self) -> float:
        """Spacing of the frequencies."""
        return float(self.freqs[1] - self.freqs[0])

    def power(self, mask: BoolArray) -> FloatArray:
        """Power (uV^2) in the frequencies selected by ``mask``, per channel."""
        total: FloatArray = self.psd[mask].sum(axis=0) * self.resolution_hz
        return total


def check_signal_quality(
    samples: npt.ArrayLike,
    fs: float,
    labels: Sequence[str],
    config: QualityConfig | None = None,
    adc_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
) -> QualityReport:
    """Check a rest segment of every channel for flat signal, clipping, hum, noise and motion.

    Parameters
    ----------
    samples
        Raw samples in microvolts, shape ``(n_samples, n_channels)`` (or 1-D for one channel),
        taken while the athlete is still and relaxed; at least ``config.min_duration_s``.
    fs
        Sample rate in Hz (200 Hz to several kHz).
    labels
        Channel labels, one per column.
    config
        Thresholds; the documented defaults when None.
    adc_range
        The sensor's ``(min, max)`` in microvolts (e.g. from its profile), for all channels
        or per label; without it clipping is detected from repeated identical extremes.

    Returns
    -------
    QualityReport
        Per channel the measured values and problems; ``ok`` is the overall verdict.

    Raises
    ------
    ValueError
        If the shapes and labels disagree, the segment is too short or holds non-finite
        values, or the band is empty at ``fs``.
    """
    config = config or QualityConfig()
    x = _as_samples(samples, len(labels), fs, config)
    band = bandpass_edges(fs, config.highpass_hz, config.lowpass_hz)
    spectrum = rest_spectrum(x, fs)
    ratios = {f0: mains_ratio_db(spectrum, f0, band, config) for f0 in _mains_candidates(config)}
    # hum that stands out is named as the analysis's mains auto names it; else the worse one
    detected = detect_mains(x, fs) if config.mains_hz is None else None
    mains_hz = detected or max(ratios, key=lambda f0: float(ratios[f0].max()))
    motion = motion_ratio_db(x, fs, mains_hz, band, config)
    rms = rest_rms(x, fs, config, mains_hz)
    channels = tuple(
        _channel_quality(
            x[:, c],
            label,
            fs,
            config,
            _range_of(adc_range, label),
            measured=(float(rms[c]), float(ratios[mains_hz][c]), float(motion[c])),
            mains_hz=mains_hz,
        )
        for c, label in enumerate(labels)
    )
    return QualityReport(channels, fs, len(x) / fs, mains_hz, band)


def rest_spectrum(x: FloatArray, fs: float, segment_s: float = 1.0) -> RestSpectrum:
    """Welch PSD of a rest segment: Hann window, half overlap, linear trend removed per segment.

    Parameters
    ----------
    x
        Samples ``(n_samples, n_channels)``, at least 1 s.
    fs
        Sample rate in Hz.
    segment_s
        Welch segment length (1 s: 1 Hz resolution); shortened to the data.

    Returns
    -------
    RestSpectrum
        Frequencies and PSD per channel.
    """
    nperseg = min(len(x), round(segment_s * fs))
    freqs, psd = welch_power(x, fs, nperseg, "linear")
    return RestSpectrum(freqs, psd)


def mains_ratio_db(
    spectrum: RestSpectrum, mains_hz: float, band: tuple[float, float], config: QualityConfig
) -> FloatArray:
    """Mains power over the rest of the EMG band, per channel, in dB.

    The mains power is the power within ``mains_halfwidth_hz`` of each harmonic of
    ``mains_hz`` inside the band, less the local noise floor under it (the median PSD 1-8 Hz
    beyond the lobe); the band power is the power in the band away from those harmonics.

    Parameters
    ----------
    spectrum
        Welch spectrum of the rest segment.
    mains_hz
        Fundamental, 50 or 60 Hz.
    band
        EMG band ``(low, high)`` in Hz.
    config
        Supplies ``mains_halfwidth_hz``.

    Returns
    -------
    ndarray
        Ratio per channel, dB, within [-60, 120].
    """
    f = spectrum.freqs
    harmonics = _harmonics(mains_hz, band, f[-1])
    halfwidth = config.mains_halfwidth_hz
    near_any = _near(f, harmonics, halfwidth)
    in_band = (f >= band[0]) & (f <= band[1])
    band_power = spectrum.power(in_band & ~near_any)
    mains_power = np.zeros(spectrum.psd.shape[1])
    for harmonic in harmonics:
        lobe = np.abs(f - harmonic) <= halfwidth
        distance = np.abs(f - harmonic)
        beside = (distance > halfwidth) & (distance <= halfwidth + 8.0) & ~near_any
        floor = np.median(spectrum.psd[beside], axis=0) if beside.any() else 0.0
        excess = spectrum.psd[lobe] - floor
        mains_power += np.clip(excess.sum(axis=0), 0.0, None) * spectrum.resolution_hz
    return _ratio_db(mains_power, band_power)


def motion_ratio_db(
    x: FloatArray,
    fs: float,
    mains_hz: float | None,
    band: tuple[float, float],
    config: QualityConfig,
) -> FloatArray:
    """Power below the EMG band over the power in it (away from mains), per channel, in dB.

    Welch segments of :data:`MOTION_SEGMENT_S` (0.25 Hz resolution) keep slow electrode
    drift, which the chain removes anyway, out of the motion band: 1 Hz drift lies four bins
    and more below its lower edge, where the Hann window's leakage has fallen by > 30 dB.

    Parameters
    ----------
    x
        Raw samples ``(n_samples, n_channels)``, microvolts.
    fs
        Sample rate in Hz.
    mains_hz
        Mains fundamental whose harmonics are left out of the band power (None: none).
    band
        EMG band ``(low, high)`` in Hz.
    config
        Supplies ``motion_low_hz`` and ``mains_halfwidth_hz``.

    Returns
    -------
    ndarray
        Ratio per channel, dB, within [-60, 120].
    """
    spectrum = rest_spectrum(x, fs, MOTION_SEGMENT_S)
    f = spectrum.freqs
    harmonics = np.zeros(0) if mains_hz is None else _harmonics(mains_hz, band, f[-1])
    near_mains = _near(f, harmonics, config.mains_halfwidth_hz)
    low = spectrum.power((f >= config.motion_low_hz) & (f < band[0]))
    in_band = spectrum.power((f >= band[0]) & (f <= band[1]) & ~near_mains)
    return _ratio_db(low, in_band)


def rest_filtered(
    x: FloatArray, fs: float, config: QualityConfig, mains_hz: float | None
) -> FloatArray:
    """Rest samples through the chain's causal band-pass and mains notch, settling cut off.

    Parameters
    ----------
    x
        Raw samples ``(n_samples, n_channels)``, microvolts.
    fs
        Sample rate in Hz.
    config
        Band edges, order and settling time.
    mains_hz
        Mains frequency to notch (with harmonics in the band); None for no notch.

    Returns
    -------
    ndarray
        Filtered samples after ``settle_s``, ``(n_samples - settle, n_channels)``.
    """
    filtered = rest_filter(fs, config, mains_hz, x.shape[1]).process(
        np.asarray(x, dtype=np.float64)
    )
    settle = min(round(config.settle_s * fs), len(filtered) // 2)
    out: FloatArray = filtered[settle:]
    return out


def rest_filter(
    fs: float, config: QualityConfig, mains_hz: float | None, n_channels: int
) -> SosFilter:
    """The chain's causal band-pass (and mains notch, with its harmonics in the band) as the
    check applies it: :func:`rest_filtered`'s filter, for a signal fed in parts."""
    low, high = bandpass_edges(fs, config.highpass_hz, config.lowpass_hz)
    sos = design_bandpass(fs, low, high, config.bandpass_order)
    if mains_hz is not None:
        sos = np.concatenate([sos, design_notch(fs, mains_hz, high)])
    return SosFilter(sos, n_channels)


def rest_rms(x: FloatArray, fs: float, config: QualityConfig, mains_hz: float | None) -> FloatArray:
    """RMS per channel of :func:`rest_filtered`: the noise the onset threshold will see.

    Parameters
    ----------
    x
        Raw samples ``(n_samples, n_channels)``, microvolts.
    fs
        Sample rate in Hz.
    config
        Band edges, order and settling time.
    mains_hz
        Mains frequency to notch, or None.

    Returns
    -------
    ndarray
        RMS per channel, microvolts.
    """
    filtered = rest_filtered(x, fs, config, mains_hz)
    rms: FloatArray = np.sqrt(np.mean(filtered * filtered, axis=0))
    return rms


def _as_samples(
    samples: npt.ArrayLike, n_labels: int, fs: float, config: QualityConfig
) -> FloatArray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != n_labels:
        raise ValueError(f"samples shaped {x.shape} do not match {n_labels} channel labels")
    if len(x) < config.min_duration_s * fs:
        raise ValueError(
            f"the quality check needs at least {config.min_duration_s:g} s of samples, got "
            f"{len(x) / fs:.2f} s"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite (lost samples are filled, never NaN)")
    return x


def _mains_candidates(config: QualityConfig) -> tuple[float, ...]:
    return MAINS_CANDIDATES_HZ if config.mains_hz is None else (config.mains_hz,)


def _range_of(
    adc_range: tuple[float, float] | Mapping[str, tuple[float, float]] | None, label: str
) -> tuple[float, float] | None:
    if adc_range is None or isinstance(adc_range, tuple):
        return adc_range
    return adc_range.get(label)


def _harmonics(mains_hz: float, band: tuple[float, float], nyquist: float) -> FloatArray:
    """Harmonics of ``mains_hz`` inside the band (and below Nyquist)."""
    top = min(band[1], nyquist)
    harmonics = mains_hz * np.arange(1, int(top // mains_hz) + 1, dtype=np.float64)
    out: FloatArray = harmonics[harmonics >= band[0]]
    return out


def _near(f: FloatArray, centres: FloatArray, halfwidth: float) -> BoolArray:
    if len(centres) == 0:
        return np.zeros(len(f), dtype=bool)
    near: BoolArray = np.any(np.abs(f[:, None] - centres[None, :]) <= halfwidth, axis=1)
    return near


def _ratio_db(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    tiny = np.finfo(np.float64).tiny
    with np.errstate(divide="ignore", over="ignore"):
        ratio = 10 * np.log10(np.maximum(numerator, tiny) / np.maximum(denominator, tiny))
    ratio = np.where(numerator > tiny, ratio, RATIO_FLOOR_DB)  # nothing there: the floor
    out: FloatArray = np.clip(ratio, RATIO_FLOOR_DB, RATIO_CEILING_DB)
    return out


def _channel_quality(
    x: FloatArray,
    label: str,
    fs: float,
    config: QualityConfig,
    adc_range: tuple[float, float] | None,
    measured: tuple[float, float, float],
    mains_hz: float,
) -> ChannelQuality:
    """Problems of one channel from its raw samples and its measured values."""
    rms, mains_db, motion_db = measured
    flat = flat_problem(x, fs, config, adc_range)
    if flat is not None:
        problems: tuple[QualityProblem, ...] = (flat,)
    else:
        found = [
            clipping_problem(x, fs, config, adc_range),
            _mains_problem(mains_db, mains_hz, config),
            _noise_problem(rms, config),
            _motion_problem(motion_db, config),
        ]
        problems = tuple(p for p in found if p is not None)
    return ChannelQuality(label, not problems, rms, mains_db, motion_db, problems)


def flat_problem(
    x: FloatArray, fs: float, config: QualityConfig, adc_range: tuple[float, float] | None = None
) -> QualityProblem | None:
    """A ``flat`` problem when one channel barely varies or is stuck at one value.

    Parameters
    ----------
    x
        Raw samples of one channel, microvolts.
    fs
        Sample rate in Hz.
    config
        Supplies ``flat_sd_uv`` and ``flat_run_s``.
    adc_range
        The sensor's range, to say when the value it is stuck at is a rail.

    Returns
    -------
    QualityProblem or None
        The problem, or None when the channel varies.
    """
    length, start = longest_run(x)
    if length >= config.flat_run_s * fs:
        value = float(x[start])
        rail = adc_range is not None and any(
            bool(mask[0]) for mask in _limit_masks(np.array([value]), adc_range, config)
        )
        where = "the sensor's limit" if rail else "one value"
        message = (
            f"no signal: stuck at {where} ({value:.4g} uV) for {length / fs:.1f} s, as if the "
            "electrode or the lead were disconnected"
        )
        return QualityProblem("flat", message, FLAT_REMEDY)
    sd = float(np.std(x))
    if sd < config.flat_sd_uv:
        message = (
            f"no signal: the channel is flat (varies by only {sd:.2g} uV), as if the electrode "
            "or the lead were disconnected"
        )
        return QualityProblem("flat", message, FLAT_REMEDY)
    return None


def clipping_problem(
    x: FloatArray, fs: float, config: QualityConfig, adc_range: tuple[float, float] | None = None
) -> QualityProblem | None:
    """A ``clipping`` problem when runs of samples sit at the ADC's limit.

    With ``adc_range``, samples at (within ``adc_tolerance`` of) its ends count; without it,
    samples equal to the channel's own maximum or minimum where they pile up (more of them
    than at the next value inwards). Either way only runs of at least ``clip_run``
    consecutive samples are clipping.

    Parameters
    ----------
    x
        Raw samples of one channel, microvolts.
    fs
        Sample rate in Hz.
    config
        Supplies ``clip_run`` and ``adc_tolerance``.
    adc_range
        The sensor's ``(min, max)`` in microvolts, if known.

    Returns
    -------
    QualityProblem or None
        The problem, or None.
    """
    clipped: list[tuple[int, float]] = []  # (clipped samples, limit value) per end
    for at_end in _limit_masks(x, adc_range, config):
        runs = true_runs(at_end)
        count = int(runs[runs >= config.clip_run].sum())
        if count:
            clipped.append((count, float(x[at_end][0])))
    if not clipped:
        return None
    total = sum(count for count, _ in clipped)
    values = " and ".join(f"{value:.4g} uV" for _, value in clipped)
    message = (
        f"the signal hits the sensor's limit ({values}) for {total} samples "
        f"({total / fs * 1000:.0f} ms): it is clipped"
    )
    return QualityProblem("clipping", message, CLIPPING_REMEDY)


def _limit_masks(
    x: FloatArray, adc_range: tuple[float, float] | None, config: QualityConfig
) -> tuple[BoolArray, BoolArray]:
    """Samples at the upper and at the lower limit.

    With ``adc_range``: samples within ``adc_tolerance`` of its ends. Without: samples equal
    to the channel's maximum (minimum), but only where they pile up, i.e. outnumber the
    samples at the next value inwards. An amplitude distribution thins out towards its
    extremes, so in an unclipped signal, even a coarsely quantised one, the extreme value is
    rarer than its neighbour; saturation stacks every larger excursion onto the limit.
    """
    if adc_range is not None:
        low, high = adc_range
        tolerance = config.adc_tolerance * (high - low)
        return x >= high - tolerance, x <= low + tolerance
    values, counts = np.unique(x, return_counts=True)
    none = np.zeros(len(x), dtype=bool)
    if len(values) < 3:
        return none, none
    top = x == values[-1] if counts[-1] > counts[-2] else none
    bottom = x == values[0] if counts[0] > counts[1] else none
    return top, bottom


def _mains_problem(
    ratio_db: float, mains_hz: float, config: QualityConfig
) -> QualityProblem | None:
    if ratio_db <= config.mains_max_db:
        return None
    message = (
        f"mains hum ({mains_hz:g} Hz) is {ratio_db:.0f} dB above the muscle signal band "
        f"(limit {config.mains_max_db:g} dB)"
    )
    return QualityProblem("mains", message, MAINS_REMEDY)


def _noise_problem(rms_uv: float, config: QualityConfig) -> QualityProblem | None:
    if rms_uv <= config.noise_max_uv:
        return None
    message = (
        f"resting noise is {rms_uv:.1f} uV RMS (limit {config.noise_max_uv:g} uV): too high to "
        "tell where a contraction starts"
    )
    return QualityProblem("noise", message, NOISE_REMEDY)


def _motion_problem(ratio_db: float, config: QualityConfig) -> QualityProblem | None:
    if ratio_db <= config.motion_max_db:
        return None
    message = (
        f"slow movement below {config.highpass_hz:g} Hz is {ratio_db:.0f} dB above the muscle "
        "signal band: the sensor or its cable moved"
    )
    return QualityProblem("motion", message, MOTION_REMEDY)


def true_runs(mask: BoolArray) -> npt.NDArray[np.int64]:
    """Lengths of the runs of consecutive True values in a 1-D mask, in order.

    Parameters
    ----------
    mask
        1-D boolean array.

    Returns
    -------
    ndarray
        One length per run (empty when there is no True).
    """
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    lengths: npt.NDArray[np.int64] = (edges[1::2] - edges[0::2]).astype(np.int64)
    return lengths


def longest_run(x: FloatArray) -> tuple[int, int]:
    """Length and start index of the longest run of identical consecutive values.

    Parameters
    ----------
    x
        1-D array, not empty.

    Returns
    -------
    tuple of int
        ``(length, start)``; the first such run when there are several.
    """
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    lengths = np.diff(np.concatenate([starts, [len(x)]]))
    best = int(np.argmax(lengths))
    return int(lengths[best]), int(starts[best])
