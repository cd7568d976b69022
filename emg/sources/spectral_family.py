"""The ``spectral`` simulator family: shaped Gaussian noise, amplitude-modulated onsets.

The classic model of the surface EMG as a zero-mean Gaussian process whose variance follows
the muscle's activation (Hogan & Mann 1980) with the power spectrum of Shwedyk, Balasubramanian
& Scott (1977), as used by Merletti's group to test estimators:

    P(f) = f_h^4 f^2 / ((f^2 + f_l^2) (f^2 + f_h^2)^2)

Unlike the project's own generator, the carrier is one continuous process per muscle (not a
fresh segment per rep), its spectrum's corner frequencies are drawn per set and muscle (f_l
40-80 Hz, f_h 90-180 Hz: spectra peaking between about 50 and 130 Hz), it is made by filtering
white noise with a linear-phase FIR filter (not by shaping an FFT), and the activation rises
from a low level at the true onset with one of four shapes over a ramp drawn per rep and
muscle:

- ``step``: straight to the plateau;
- ``linear``: a straight line from 2 % of the plateau to the plateau over the ramp;
- ``sigmoid``: a logistic curve from 2 % to the plateau over the ramp;
- ``exponential``: ``1 - exp(-t / tau)`` from 2 %, 95 % of the way at the end of the ramp.

The true onset is where the activation leaves zero. SNR is the plateau's signal power over the
noise power (Bonato et al. 1998; Kowalski et al. 2021). Noise is white, or coloured (half of
its power in a 1/f component); a slow drift and 50 Hz mains can be added.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import signal

from emg.block import Channel
from emg.recording import Recording
from emg.sources.family_conditions import MUSCLES, FamilyCondition, OnsetShape, truth_rep
from emg.sources.synthetic import SyntheticSession

FloatArray = npt.NDArray[np.float64]

#: activation at the true onset, as a fraction of the plateau (shapes other than ``step``)
START_LEVEL = 0.02
#: plateau activation per muscle (fraction of maximum) and its rep-to-rep variation (+-)
PLATEAU = {"glute": 0.6, "hamstring": 0.45}
PLATEAU_JITTER = 0.1
#: the activation's fall at the end of a burst
DECAY_S = 0.15
#: length of the carrier's shaping filter
FIR_S = 0.064


def onset_activation(t: FloatArray, shape: OnsetShape, ramp_s: float) -> FloatArray:
    """The rise of the activation from the true onset (``t = 0``) to the plateau (1).

    Parameters
    ----------
    t
        Time since the true onset, seconds.
    shape
        Onset shape.
    ramp_s
        Time to reach the plateau (95 % of it for ``exponential``).

    Returns
    -------
    ndarray
        Activation, 0 before the onset.

    Examples
    --------
    >>> onset_activation(np.array([-0.01, 0.0, 0.05, 0.1]), "linear", 0.1).round(3).tolist()
    [0.0, 0.02, 0.51, 1.0]
    """
    u = np.clip(t / max(ramp_s, 1e-9), 0.0, 1.0)
    if shape == "step":
        rise = np.ones_like(u)
    elif shape == "linear":
        rise = START_LEVEL + (1 - START_LEVEL) * u
    elif shape == "sigmoid":
        logistic = 1 / (1 + np.exp(-10 * (u - 0.5)))
        low, high = 1 / (1 + np.exp(5.0)), 1 / (1 + np.exp(-5.0))
        rise = START_LEVEL + (1 - START_LEVEL) * (logistic - low) / (high - low)
    else:
        tau = ramp_s / np.log(20)  # 95 % of the way at the end of the ramp
        rise = START_LEVEL + (1 - START_LEVEL) * (1 - np.exp(-np.clip(t, 0, None) / tau))
        rise = np.minimum(rise, 1.0)
    out: FloatArray = np.where(t >= 0, rise, 0.0)
    return out


def shwedyk_carrier(
    rng: np.random.Generator, n: int, fs: float, f_low: float, f_high: float
) -> FloatArray:
    """Unit-power Gaussian noise with the Shwedyk sEMG spectrum, by FIR filtering.

    Parameters
    ----------
    rng
        Random generator.
    n
        Number of samples.
    fs
        Sample rate, Hz.
    f_low, f_high
        The spectrum's corner frequencies, Hz.

    Returns
    -------
    ndarray
        ``n`` samples whose expected power is 1.
    """
    taps = round(FIR_S * fs) | 1
    grid = np.linspace(0, fs / 2, 513)
    power = f_high**4 * grid**2 / ((grid**2 + f_low**2) * (grid**2 + f_high**2) ** 2)
    fir = signal.firwin2(taps, grid, np.sqrt(power / power.max()), fs=fs)
    fir /= np.sqrt(np.sum(fir**2))  # unit power gain for white input
    white = rng.standard_normal(n + taps)
    out: FloatArray = signal.lfilter(fir, 1.0, white)[taps:]
    return out


def _noise(rng: np.random.Generator, n: int, fs: float, coloured: bool) -> FloatArray:
    """Unit-power additive noise: white, or half white and half 1/f (above 0.5 Hz)."""
    white = rng.standard_normal(n)
    if not coloured:
        return white
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / fs)
    spectrum *= np.where(f > 0.5, 1 / np.sqrt(np.maximum(f, 0.5)), 0.0)
    pink = np.fft.irfft(spectrum, n)
    pink /= np.sqrt(np.mean(pink**2))
    out: FloatArray = np.sqrt(0.5) * white + np.sqrt(0.5) * pink
    return out


def _drift(rng: np.random.Generator, t: FloatArray, amplitude: float) -> FloatArray:
    """A slow wander of the baseline: three sinusoids below 1 Hz, peak ``amplitude``."""
    freqs = rng.uniform(0.05, 0.8, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    weights = rng.uniform(0.5, 1.0, 3)
    out: FloatArray = (
        amplitude
        * (np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None]) * weights[:, None]).sum(axis=0)
        / weights.sum()
    )
    return out


def simulate_spectral_set(condition: FamilyCondition, seed: int) -> SyntheticSession:
    """Simulate one set of the ``spectral`` family.

    Parameters
    ----------
    condition
        What to simulate.
    seed
        Seed of this set's random generator.

    Returns
    -------
    SyntheticSession
        Float32 microvolt recording (channels ``glute``, ``hamstring``) and its truth.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EC7]))
    fs = condition.fs
    n = round(condition.duration_s() * fs)
    t = np.arange(n) / fs
    noise_uv = 5.0
    corners = {m: (rng.uniform(40, 80), rng.uniform(90, 180)) for m in MUSCLES}
    activation = {m: np.zeros(n) for m in MUSCLES}
    reps = []
    for k, (glute_on, ham_on) in enumerate(condition.onset_times(rng)):
        onsets = {"glute": glute_on, "hamstring": ham_on}
        earlier_off = min(onsets.values()) + condition.active_s
        offsets: dict[str, float] = {}
        levels: dict[str, float] = {}
        extra: dict[str, str | float] = {}
        for muscle in MUSCLES:
            shape: OnsetShape = condition.shapes[rng.integers(len(condition.shapes))]
            ramp = 0.0 if shape == "step" else float(rng.uniform(*condition.ramp_s(muscle)))
            level = PLATEAU[muscle] * (1 + rng.uniform(-PLATEAU_JITTER, PLATEAU_JITTER))
            offsets[muscle] = max(earlier_off + rng.uniform(-0.05, 0.1), onsets[muscle] + 0.4)
            since = t - onsets[muscle]
            fall = np.clip((offsets[muscle] - t) / DECAY_S, 0.0, 1.0)
            fall = 0.5 * (1 - np.cos(np.pi * fall))
            activation[muscle] += level * onset_activation(since, shape, ramp) * fall
            levels[muscle] = level
            extra[f"{muscle}_shape"] = shape
            extra[f"{muscle}_ramp_s"] = ramp
        reps.append(truth_rep(k + 1, onsets, offsets, levels, extra))

    emg: dict[str, FloatArray] = {}
    gain: dict[str, float] = {}
    for muscle in MUSCLES:
        carrier = shwedyk_carrier(rng, n, fs, *corners[muscle])
        mean_plateau_power = np.mean([r[f"{muscle}_level"] ** 2 for r in reps])
        # plateau power / noise power = SNR (in expectation, over the set's reps)
        gain[muscle] = float(
            noise_uv * 10 ** (condition.snr_db(muscle) / 20) / np.sqrt(mean_plateau_power)
        )
        emg[muscle] = gain[muscle] * activation[muscle] * carrier
    columns = []
    for muscle in MUSCLES:
        other = MUSCLES[1 - MUSCLES.index(muscle)]
        x = emg[muscle] + condition.crosstalk * emg[other]
        x = x + noise_uv * _noise(rng, n, fs, condition.noise == "coloured")
        if condition.drift_uv > 0:
            x = x + _drift(rng, t, condition.drift_uv)
        if condition.mains_uv > 0:
            x = x + condition.mains_uv * np.sqrt(2) * np.sin(
                2 * np.pi * 50.0 * t + rng.uniform(0, 2 * np.pi)
            )
        columns.append(x)
    recording = Recording(
        data=np.stack(columns, axis=1).astype(np.float32),
        sample_rate=fs,
        channels=tuple(Channel.from_name(m, device=f"spectral-{m}") for m in MUSCLES),
        source=f"spectral family (seed={seed})",
    )
    truth = {
        "generator": "emg.sources.spectral_family",
        "config": {
            **condition.as_dict(),
            "seed": seed,
            "noise_uv": noise_uv,
            "corner_hz": {m: list(corners[m]) for m in MUSCLES},
            "start_level": START_LEVEL,
        },
        "sample_rate": fs,
        "duration_s": n / fs,
        "mvc_uv": gain,
        "noise_uv": noise_uv,
        "reps": reps,
        "cramp": None,
        "lost": [],
    }
    return SyntheticSession(recording, truth)
