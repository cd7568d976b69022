"""Synthetic hip-thrust sets with known ground truth, for validation and demos.

The muscle signal is Gaussian noise shaped to a physiological sEMG power spectrum (Shwedyk et
al. 1977: ``P(f) ~ fh^4 f^2 / ((f^2 + fl^2)(f^2 + fh^2)^2)``, fl = 60 Hz, fh = 120 Hz, power
peaking near 65 Hz, median frequency near 95 Hz), amplitude-modulated by a smooth activation
profile per muscle and rep (a linear ramp from the true onset, a gently varying plateau and a
raised-cosine decay to the true offset). On top, each switchable: electrode noise at a chosen
SNR, mains interference, motion artefacts below 20 Hz, crosstalk between the sensors, fatigue
(spectral compression over the set), a cramp episode (sustained involuntary hamstring
activity) and packet loss. Every random draw comes from one ``numpy.random.Generator`` seeded
explicitly.

SNR is the ratio of the RMS of a muscle's signal at its mean rep level to the RMS of the
electrode noise, both over the full band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.block import Channel
from emg.order import classify_order
from emg.recording import Recording
from emg.sources.synthetic_limits import MAX_FS, MAX_REPS, RANGES, check_timing, check_values

__all__ = [
    "DEMO_SET",
    "MAX_FS",
    "MAX_REPS",
    "RANGES",
    "SynthConfig",
    "SyntheticSession",
    "activation_profile",
    "generate_session",
    "shaped_noise",
]

FloatArray = npt.NDArray[np.float64]

SPECTRUM_LOW_HZ = 60.0
SPECTRUM_HIGH_HZ = 120.0


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of a synthetic set. Times in seconds unless named otherwise.

    What each may be, and how they must fit together, is in
    :mod:`emg.sources.synthetic_limits` (:meth:`validate` checks it).

    Attributes
    ----------
    reps
        Number of reps.
    lead_ms
        Hamstring onset minus glute onset (negative: hamstrings first), one value for every
        rep or one per rep.
    snr_db
        Signal-to-noise ratio of each muscle at its mean level.
    fs
        Sample rate in Hz.
    seed
        Seed of the random generator.
    sides
        Generate left and right channels of each muscle.
    rest_s, end_rest_s
        Quiet time before the first and after the last rep.
    rep_period_s, period_jitter_s
        Time from one rep to the next, and its random variation (uniform +-).
    active_s
        Time the earlier muscle is active in a rep.
    ramp_s, decay_s
        Onset ramp and offset decay durations.
    glute_level, hamstring_level
        Mean activation per muscle, as a fraction of its MVC.
    level_jitter
        Relative random variation of the levels from rep to rep (uniform +-).
    noise_uv
        RMS of the electrode noise in microvolts.
    mains_hz, mains_uv
        Mains frequency and amplitude (RMS of the fundamental, microvolts); 0 turns it off.
    artefact_uv
        Peak amplitude of a slow motion artefact (< 20 Hz) at the start of each rep; 0 = off.
    crosstalk
        Fraction of each muscle's signal picked up by the other sensor.
    fatigue
        Relative fall of the spectrum's frequency scale from the first to the last rep
        (0.2: the median frequency ends 20 % lower).
    cramp_rep
        Rep (1-based) at whose glute onset a cramp episode starts; 0 = none.
    cramp_level, cramp_rise_s, cramp_hold_s, cramp_decay_s
        Peak activation of the cramp (fraction of MVC) and its time course.
    loss
        Probability that a packet of ``packet_s`` is lost, per sensor.
    packet_s
        Duration of one packet.
    """

    reps: int = 10
    lead_ms: float | tuple[float, ...] = 80.0
    snr_db: float = 20.0
    fs: float = 2000.0
    seed: int = 0
    sides: bool = False
    rest_s: float = 3.0
    end_rest_s: float = 2.0
    rep_period_s: float = 3.0
    period_jitter_s: float = 0.2
    active_s: float = 1.4
    ramp_s: float = 0.05
    decay_s: float = 0.15
    glute_level: float = 0.6
    hamstring_level: float = 0.4
    level_jitter: float = 0.1
    noise_uv: float = 5.0
    mains_hz: float = 50.0
    mains_uv: float = 0.0
    artefact_uv: float = 0.0
    crosstalk: float = 0.0
    fatigue: float = 0.0
    cramp_rep: int = 0
    cramp_level: float = 0.8
    cramp_rise_s: float = 3.0
    cramp_hold_s: float = 1.5
    cramp_decay_s: float = 2.0
    loss: float = 0.0
    packet_s: float = 0.02

    def leads_ms(self) -> list[float]:
        """The lead of every rep."""
        if isinstance(self.lead_ms, int | float | np.number):
            return [float(self.lead_ms)] * self.reps
        if len(self.lead_ms) != self.reps:
            raise ValueError(f"lead_ms has {len(self.lead_ms)} values for {self.reps} reps")
        return [float(v) for v in self.lead_ms]

    def validate(self) -> None:
        """Raise ValueError naming the first parameter the generator cannot simulate.

        Each setting's type and range (:data:`~emg.sources.synthetic_limits.RANGES` ...),
        then how they fit together (see :mod:`emg.sources.synthetic_limits`); the message
        starts with the setting's name and says what is allowed.
        """
        values = vars(self)
        check_values(values)
        check_timing(values, self.leads_ms())


@dataclass
class SyntheticSession:
    """A generated set: the recording and its ground truth.

    Attributes
    ----------
    recording
        Samples in microvolts, channels named by muscle (and side), loss mask.
    truth
        JSON-ready ground truth: per rep the true onsets, offsets, lead, order, levels and
        ratio; the cramp episode; lost sample ranges; the configuration.
    """

    recording: Recording
    truth: dict[str, Any] = field(default_factory=dict)


def shaped_noise(rng: np.random.Generator, n: int, fs: float, scale: float = 1.0) -> FloatArray:
    """Unit-RMS Gaussian noise with the sEMG power spectrum, frequencies scaled by ``scale``.

    Parameters
    ----------
    rng
        Random generator.
    n
        Number of samples.
    fs
        Sample rate in Hz.
    scale
        Frequency scale of the spectrum (< 1 compresses it, as fatigue does).

    Returns
    -------
    ndarray
        ``n`` samples with unit RMS.
    """
    n_fft = max(n, 64)
    spectrum = rng.standard_normal(n_fft // 2 + 1) + 1j * rng.standard_normal(n_fft // 2 + 1)
    f = np.fft.rfftfreq(n_fft, 1 / fs)
    fl, fh = SPECTRUM_LOW_HZ * scale, SPECTRUM_HIGH_HZ * scale
    power = fh**4 * f**2 / ((f**2 + fl**2) * (f**2 + fh**2) ** 2)
    x = np.fft.irfft(spectrum * np.sqrt(power), n_fft)[:n]
    rms = float(np.sqrt(np.mean(x * x)))
    out: FloatArray = x / rms if rms > 0 else x
    return out


def activation_profile(
    t: FloatArray, onset: float, offset: float, ramp: float, decay: float, wobble: float
) -> FloatArray:
    """Activation (0..~1): linear ramp from ``onset``, plateau, cosine decay to ``offset``.

    Parameters
    ----------
    t
        Times in seconds.
    onset, offset
        True onset (activation leaves zero) and offset (activation back at zero).
    ramp, decay
        Durations of the rise and the fall.
    wobble
        Relative size of a slow bell-shaped variation of the plateau (concentric peak).

    Returns
    -------
    ndarray
        The activation at each time.
    """
    rise = np.clip((t - onset) / ramp, 0.0, 1.0)
    fall_start = offset - decay
    fall = np.where(
        t < fall_start, 1.0, 0.5 * (1 + np.cos(np.pi * np.clip((t - fall_start) / decay, 0, 1)))
    )
    phase = np.clip((t - onset) / max(offset - onset, 1e-9), 0, 1)
    bell = 1.0 + wobble * (np.sin(np.pi * phase) - 0.5)
    out: FloatArray = np.where((t >= onset) & (t <= offset), rise * fall * bell, 0.0)
    return out


def _cramp_profile(t: FloatArray, start: float, config: SynthConfig) -> FloatArray:
    peak = start + config.cramp_rise_s
    end = peak + config.cramp_hold_s + config.cramp_decay_s
    rise = 0.5 * (1 - np.cos(np.pi * np.clip((t - start) / config.cramp_rise_s, 0, 1)))
    decay_start = peak + config.cramp_hold_s
    fall = 0.5 * (1 + np.cos(np.pi * np.clip((t - decay_start) / config.cramp_decay_s, 0, 1)))
    out: FloatArray = np.where((t >= start) & (t <= end), rise * fall, 0.0) * config.cramp_level
    return out


#: The built-in set (``emg demo``, ``emg live``, ``emg record`` without a source): four
#: glute-first reps, then four hamstring-first, at 15 dB with a little mains hum, movement
#: artefacts, crosstalk and fatigue.
DEMO_SET = SynthConfig(
    reps=8,
    lead_ms=(90.0, 110.0, 80.0, 100.0, -90.0, -120.0, -100.0, -130.0),
    snr_db=15.0,
    seed=7,
    mains_uv=8.0,
    artefact_uv=40.0,
    crosstalk=0.03,
    fatigue=0.15,
)


def generate_session(config: SynthConfig) -> SyntheticSession:
    """Generate a synthetic set and its ground truth.

    Parameters
    ----------
    config
        What to generate.

    Returns
    -------
    SyntheticSession
        The recording (float32 microvolts) and the truth.
    """
    config.validate()
    rng = np.random.default_rng(config.seed)
    fs = config.fs
    leads = config.leads_ms()
    n = round((config.rest_s + config.reps * config.rep_period_s + config.end_rest_s) * fs)
    t = np.arange(n) / fs
    muscles = ("glute", "hamstring")
    sides: Sequence[str | None] = ("left", "right") if config.sides else (None,)
    mean_level = {"glute": config.glute_level, "hamstring": config.hamstring_level}
    # MVC amplitude so that the mean level reaches the requested SNR
    mvc_uv = {m: config.noise_uv * 10 ** (config.snr_db / 20) / mean_level[m] for m in muscles}

    reps: list[dict[str, Any]] = []
    for k in range(config.reps):
        lead = leads[k] / 1000
        rep_start = (
            config.rest_s
            + k * config.rep_period_s
            + rng.uniform(-config.period_jitter_s, config.period_jitter_s)
            + config.period_jitter_s
        )
        glute_on = rep_start + max(0.0, -lead)
        ham_on = glute_on + lead
        glute_off = glute_on + config.active_s
        ham_off = glute_off + rng.uniform(-0.05, 0.05) + max(0.0, lead) * 0.5
        levels = {
            m: mean_level[m] * (1 + rng.uniform(-config.level_jitter, config.level_jitter))
            for m in muscles
        }
        reps.append(
            {
                "index": k + 1,
                "glute_onset_s": glute_on,
                "glute_offset_s": glute_off,
                "hamstring_onset_s": ham_on,
                "hamstring_offset_s": ham_off,
                "lead_ms": leads[k],
                "order": classify_order(leads[k]),
                "glute_level": levels["glute"],
                "hamstring_level": levels["hamstring"],
                "ratio": levels["glute"] / levels["hamstring"],
                "frequency_scale": 1 - config.fatigue * k / max(config.reps - 1, 1),
            }
        )

    cramp: dict[str, float] | None = None
    if config.cramp_rep:
        cramp_start = reps[config.cramp_rep - 1]["glute_onset_s"]
        cramp = {
            "start_s": cramp_start,
            "peak_s": cramp_start + config.cramp_rise_s,
            "end_s": cramp_start + config.cramp_rise_s + config.cramp_hold_s + config.cramp_decay_s,
            "level": config.cramp_level,
        }

    channels: list[Channel] = []
    columns: list[FloatArray] = []
    sources: dict[tuple[str, str | None], FloatArray] = {}
    for side in sides:
        side_gain = 1.0 if side != "right" else 0.9
        for muscle in muscles:
            source = np.zeros(n)
            for rep in reps:
                on, off = rep[f"{muscle}_onset_s"], rep[f"{muscle}_offset_s"]
                i0, i1 = max(0, int(on * fs) - 1), min(n, int(off * fs) + 2)
                segment_t = t[i0:i1]
                activation = (
                    activation_profile(
                        segment_t, on, off, config.ramp_s, config.decay_s, wobble=0.3
                    )
                    * rep[f"{muscle}_level"]
                )
                noise = shaped_noise(rng, i1 - i0, fs, rep["frequency_scale"])
                source[i0:i1] += activation * noise * mvc_uv[muscle] * side_gain
            if muscle == "hamstring" and cramp is not None:
                i0 = int(cramp["start_s"] * fs)
                i1 = min(n, int(cramp["end_s"] * fs) + 1)
                activation = _cramp_profile(t[i0:i1], cramp["start_s"], config)
                source[i0:i1] += activation * shaped_noise(rng, i1 - i0, fs) * mvc_uv[muscle]
            sources[(muscle, side)] = source
    for side in sides:
        for muscle in muscles:
            other = "hamstring" if muscle == "glute" else "glute"
            x = sources[(muscle, side)] + config.crosstalk * sources[(other, side)]
            x = x + config.noise_uv * rng.standard_normal(n)
            if config.mains_uv > 0:
                phase = rng.uniform(0, 2 * np.pi)
                w = 2 * np.pi * config.mains_hz * t
                x += (
                    config.mains_uv * np.sqrt(2) * (np.sin(w + phase) + 0.3 * np.sin(3 * w + phase))
                )
            if config.artefact_uv > 0:
                x += _motion_artefacts(rng, t, reps, config.artefact_uv)
            channels.append(
                Channel.from_name(
                    f"{muscle}_{side}" if side else muscle,
                    device=f"synthetic-{muscle}" + (f"-{side}" if side else ""),
                )
            )
            columns.append(x)
    data = np.stack(columns, axis=1)
    lost = np.zeros(data.shape, dtype=bool)
    lost_ranges: list[dict[str, Any]] = []
    if config.loss > 0:
        packet = max(1, round(config.packet_s * fs))
        for c, channel in enumerate(channels):
            dropped = np.flatnonzero(rng.random(-(-n // packet)) < config.loss)
            for p in dropped:
                i0 = int(p) * packet
                i1 = min(n, i0 + packet)
                lost[i0:i1, c] = True
                data[i0:i1, c] = 0.0
                lost_ranges.append({"channel": channel.label, "start": i0, "stop": i1})

    recording = Recording(
        data=data.astype(np.float32),
        sample_rate=fs,
        channels=tuple(channels),
        lost=lost,
        source=f"synthetic(seed={config.seed})",
    )
    config_dict = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(config).items()}
    truth = {
        "generator": "emg.sources.synthetic",
        "config": config_dict,
        "sample_rate": fs,
        "duration_s": n / fs,
        "snr_db": config.snr_db,
        "mvc_uv": mvc_uv,
        "noise_uv": config.noise_uv,
        "reps": reps,
        "cramp": cramp,
        "lost": lost_ranges,
    }
    return SyntheticSession(recording, truth)


def truth_recorded(truth: dict[str, Any], duration_s: float) -> dict[str, Any]:
    """The truth of the part of a synthetic set that was recorded (a recording stopped
    before the set's end): the reps whose onsets both lie in its first ``duration_s``
    seconds, the losses that began in it; ``reps_planned`` keeps how many the set had.

    Examples
    --------
    >>> truth = {"duration_s": 9.0, "reps": [{"glute_onset_s": 3.0, "hamstring_onset_s": 3.1},
    ...     {"glute_onset_s": 6.0, "hamstring_onset_s": 6.1}], "lost": [], "cramp": None}
    >>> cut = truth_recorded(truth, 6.05)
    >>> len(cut["reps"]), cut["reps_planned"], cut["duration_s"]
    (1, 2, 6.05)
    >>> truth_recorded(truth, 9.0) == truth
    True
    """
    if duration_s >= truth["duration_s"]:
        return truth
    fs = truth.get("sample_rate")
    reps = [
        rep
        for rep in truth["reps"]
        if max(rep["glute_onset_s"], rep["hamstring_onset_s"]) <= duration_s
    ]
    lost = [loss for loss in truth.get("lost", []) if fs is None or loss["start"] < duration_s * fs]
    return {
        **truth,
        "duration_s": duration_s,
        "reps": reps,
        "reps_planned": len(truth["reps"]),
        "lost": lost,
    }


def _motion_artefacts(
    rng: np.random.Generator, t: FloatArray, reps: list[dict[str, Any]], amplitude: float
) -> FloatArray:
    """Slow (< 10 Hz) bumps around the start of every rep, as a cable or electrode moving."""
    out = np.zeros_like(t)
    for rep in reps:
        centre = min(rep["glute_onset_s"], rep["hamstring_onset_s"]) + rng.uniform(-0.3, 0.1)
        width = rng.uniform(0.2, 0.5)
        bump = np.clip(1 - ((t - centre) / (width / 2)) ** 2, 0, None) ** 2
        out += amplitude * rng.uniform(0.5, 1.0) * rng.choice([-1.0, 1.0]) * bump
    return out
