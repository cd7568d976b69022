"""The ``motor-unit`` simulator family: recruitment, rate coding and summed MUAP trains.

A pool of motor units per muscle after Fuglevand, Winter & Patla (1993, J Neurophysiol
70:2470-2488), driven by an excitation that rises, holds and falls in every rep:

- **Recruitment**: ``N_UNITS`` units whose thresholds grow exponentially,
  ``RTE_i = exp(ln(RR) i / n)`` for ``i = 1..n``, with a range ``RR = 30`` (Fuglevand's
  default): many small low-threshold units, few large ones. Excitation is in the same
  units; its maximum is where the last unit reaches its peak rate,
  ``E_max = RTE_n + (PFR_n - MFR) / g`` (47 units with the values below).
- **Rate coding**: a recruited unit fires at ``MFR + g (E - RTE_i)``, at least ``MFR = 8 Hz``
  and at most its peak rate ``PFR_i = PFR_1 - PFRD RTE_i / RTE_n`` (``PFR_1 = 35 Hz``,
  ``PFRD = 10 Hz``: later units peak lower), with ``g = 1 Hz`` per unit of excitation.
- **Discharges**: each inter-spike interval is Gaussian around the reciprocal of the rate
  with a coefficient of variation of 0.2 (Fuglevand's value), no shorter than a 2 ms
  refractory period. Fuglevand takes the rate at the previous discharge, which suits his
  slow ramps; here the rate is averaged over the interval (the interval over which the rate
  integrates to ``1 + 0.2 z``), which is the same under a steady drive and keeps a unit
  recruited on a 20 ms ramp from waiting a whole 125 ms interval at its minimum rate. A
  unit fires its first discharge when the rising excitation crosses its threshold (after a
  random phase of up to one interval when a step jumps past it) and stops when the falling
  excitation drops below it.
- **MUAPs**: each unit's surface potential is a mix of the first and second Hermite-Rodriguez
  functions (Lo Conte, Merletti & Sandri 1994) with a random weight and sign, a random
  duration of 5-15 ms and an amplitude growing exponentially over the pool with a range of 100
  (the size principle; Fuglevand's range of twitch forces), scaled by a random depth factor
  of 0.5-1. The potential starts at the discharge (its peaks a few ms later, as the action
  potential travels to the electrode), so the signal starts exactly at the true onset.

The **true onset** of a muscle in a rep is the first discharge of any of its units, read from
the simulated spike trains (rounded to the sample the potential starts at); the excitation's
own start is kept in the truth as ``<muscle>_drive_onset_s``. The excitation is started so
that the first discharge falls on the condition's onset time, so leads are as requested. Its
rise to the plateau follows the rep's shape (``linear``, ``sigmoid``, ``exponential`` — a
``1 - exp(-t / tau)`` with ``tau`` the ramp over ln 20, scaled to reach the plateau at the end
of the ramp — or ``step``) over a ramp drawn from the muscle's range; it falls over
``DECAY_S`` with a raised cosine.

Sensors: each picks up its muscle, ``condition.crosstalk`` of the other's signal low-passed
(crosstalk loses high frequencies in the tissue), additive noise (white, or coloured: a 1/f
rise below ``COLOURED_CORNER_HZ`` on top of white), a slow baseline drift below 1 Hz and 50 Hz
mains. SNR is Bonato et al.'s (1998): the muscle's own signal power over its plateaus (measured
on the noiseless signal) over the additive noise power, exactly as requested; drift, mains and
crosstalk come on top of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import signal

from emg.block import Channel
from emg.recording import Recording
from emg.sources.family_conditions import MUSCLES, FamilyCondition, OnsetShape, truth_rep
from emg.sources.synthetic import SyntheticSession

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: motor units per muscle (Fuglevand et al. 1993 used 120)
N_UNITS = 120
#: range of recruitment thresholds, last over first (Fuglevand: 30)
RECRUITMENT_RANGE = 30.0
#: discharge rate at recruitment, Hz (Fuglevand: 8 Hz)
MIN_RATE_HZ = 8.0
#: rate gain, Hz per unit of excitation above threshold (Fuglevand: 1)
RATE_GAIN = 1.0
#: peak rate of the first unit and how much lower the last one peaks, Hz (Fuglevand: 35, 10)
PEAK_RATE_HZ = 35.0
PEAK_RATE_DROP_HZ = 10.0
#: coefficient of variation of the inter-spike intervals (Fuglevand: 0.2)
ISI_CV = 0.2
#: shortest inter-spike interval (refractory period), s
REFRACTORY_S = 0.002
#: fixed-point iterations and points (fractions of the interval) of the mean rate over an
#: interval
RATE_ITERATIONS = 2
RATE_POINTS = np.linspace(0.0, 1.0, 5)
#: range of MUAP amplitudes over the pool (size principle)
AMPLITUDE_RANGE = 100.0
#: MUAP durations, s (about four Hermite-Rodriguez scale parameters)
MUAP_DURATION_S = (0.005, 0.015)
#: depth attenuation of a unit's potential (uniform)
DEPTH_FACTOR = (0.5, 1.0)
#: plateau excitation per muscle (fraction of maximum) and its rep-to-rep variation (+-)
PLATEAU = {"glute": 0.55, "hamstring": 0.4}
PLATEAU_JITTER = 0.1
#: time the excitation takes to fall at the end of a burst, s
DECAY_S = 0.15
#: RMS of the additive noise, microvolts (the signal is scaled to the SNR)
NOISE_UV = 5.0
#: below this frequency the 1/f part of coloured noise rises above the white part, Hz
COLOURED_CORNER_HZ = 10.0
#: corner of the low-pass the crosstalk goes through, Hz
CROSSTALK_LOWPASS_HZ = 250.0
#: mains frequency, Hz
MAINS_HZ = 50.0
#: steepness of the sigmoid rise and rate of the exponential one (95 % at the ramp's end)
SIGMOID_STEEPNESS = 10.0
EXPONENTIAL_RATE = float(np.log(20.0))


@dataclass(frozen=True)
class MotorUnitPool:
    """The motor units of one muscle.

    Attributes
    ----------
    thresholds
        Recruitment threshold of each unit (excitation units), ascending.
    peak_rates_hz
        Peak discharge rate of each unit.
    templates
        ``(n_units, n_taps)`` MUAP of each unit at the sample rate, starting at the discharge
        (arbitrary units; the muscle's signal is scaled to its SNR afterwards).
    """

    thresholds: FloatArray
    peak_rates_hz: FloatArray
    templates: FloatArray

    @property
    def max_excitation(self) -> float:
        """Excitation at which the last unit reaches its peak rate."""
        return float(self.thresholds[-1] + (self.peak_rates_hz[-1] - MIN_RATE_HZ) / RATE_GAIN)


@dataclass(frozen=True)
class Drive:
    """The excitation of one muscle in one rep.

    Attributes
    ----------
    onset_s
        Where it leaves zero.
    ramp_s, shape
        Time to reach the plateau and the shape of the rise.
    plateau
        Excitation at the plateau (excitation units).
    offset_s
        Where it is back at zero (it falls over ``DECAY_S`` before).
    """

    onset_s: float
    ramp_s: float
    shape: OnsetShape
    plateau: float
    offset_s: float

    def at(self, t: FloatArray) -> FloatArray:
        """Excitation at times ``t`` (seconds)."""
        x = np.clip((t - self.onset_s) / max(self.ramp_s, 1e-12), 0.0, 1.0)
        rise = np.where(t >= self.onset_s, rise_fraction(x, self.shape), 0.0)
        fall_start = self.offset_s - DECAY_S
        phase = np.clip((t - fall_start) / DECAY_S, 0.0, 1.0)
        fall = 0.5 * (1 + np.cos(np.pi * phase))
        out: FloatArray = self.plateau * rise * fall
        return out

    def crossing_s(self, thresholds: FloatArray) -> FloatArray:
        """When the rise crosses each threshold (NaN if the plateau stays below it)."""
        fraction = thresholds / self.plateau
        x = rise_inverse(np.clip(fraction, 0.0, 1.0), self.shape)
        out: FloatArray = np.where(fraction <= 1.0, self.onset_s + x * self.ramp_s, np.nan)
        return out


def rise_fraction(x: FloatArray, shape: OnsetShape) -> FloatArray:
    """Fraction of the plateau reached at fraction ``x`` (0..1) of the ramp.

    Examples
    --------
    >>> rise_fraction(np.array([0.0, 0.5, 1.0]), "linear").tolist()
    [0.0, 0.5, 1.0]
    """
    if shape == "step":
        return np.ones_like(x)
    if shape == "linear":
        return x
    if shape == "sigmoid":
        k = SIGMOID_STEEPNESS
        low, high = _logistic(-k / 2), _logistic(k / 2)
        out: FloatArray = (_logistic(k * (x - 0.5)) - low) / (high - low)
        return out
    c = EXPONENTIAL_RATE
    out = (1 - np.exp(-c * x)) / (1 - np.exp(-c))
    return out


def rise_inverse(y: FloatArray, shape: OnsetShape) -> FloatArray:
    """Fraction of the ramp at which the rise reaches fraction ``y`` of the plateau."""
    if shape == "step":
        return np.zeros_like(y)
    if shape == "linear":
        return y
    if shape == "sigmoid":
        k = SIGMOID_STEEPNESS
        low, high = _logistic(-k / 2), _logistic(k / 2)
        p = np.clip(low + y * (high - low), 1e-12, 1 - 1e-12)
        out: FloatArray = 0.5 + np.log(p / (1 - p)) / k
        return out
    c = EXPONENTIAL_RATE
    out = -np.log(1 - y * (1 - np.exp(-c))) / c
    return out


def _logistic(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def motor_unit_pool(rng: np.random.Generator, fs: float, n_units: int = N_UNITS) -> MotorUnitPool:
    """A pool of ``n_units`` motor units with Fuglevand et al.'s recruitment and rate coding.

    Parameters
    ----------
    rng
        Random generator (MUAP shapes, durations and depths).
    fs
        Sample rate of the templates, Hz.
    n_units
        Pool size.

    Returns
    -------
    MotorUnitPool
        Thresholds, peak rates and MUAP templates.
    """
    i = np.arange(1, n_units + 1)
    thresholds = np.exp(np.log(RECRUITMENT_RANGE) * i / n_units)
    peak_rates = PEAK_RATE_HZ - PEAK_RATE_DROP_HZ * thresholds / thresholds[-1]
    amplitudes = np.exp(np.log(AMPLITUDE_RANGE) * i / n_units) * rng.uniform(*DEPTH_FACTOR, n_units)
    scale_s = rng.uniform(*MUAP_DURATION_S, n_units) / 4  # Hermite-Rodriguez lambda
    taps = int(np.ceil(MUAP_DURATION_S[1] * fs)) + 1  # the longest potential
    tau = (np.arange(taps)[None, :] / fs - 2 * scale_s[:, None]) / scale_s[:, None]
    gauss = np.exp(-(tau**2))
    first = rng.uniform(0.6, 1.0, n_units) * rng.choice([-1.0, 1.0], n_units)
    second = rng.uniform(0.0, 0.6, n_units) * rng.choice([-1.0, 1.0], n_units)
    shape = (first[:, None] * tau + second[:, None] * (1 - 2 * tau**2)) * gauss
    shape[np.abs(tau) > 2.0] = 0.0  # the potential lasts four scale parameters
    peak = np.max(np.abs(shape), axis=1, keepdims=True)
    templates = shape / peak * amplitudes[:, None]
    return MotorUnitPool(thresholds, peak_rates, templates)


def discharge_times(
    pool: MotorUnitPool, drive: Drive, rng: np.random.Generator
) -> tuple[IntArray, FloatArray]:
    """Discharges of every unit of ``pool`` under one rep's ``drive``.

    A unit fires first where the rising drive crosses its threshold (a step gives each unit
    a random phase of up to one interval instead); over each interval its rate integrates to
    ``1 + ISI_CV z`` (``z`` standard normal; see :func:`_interval`); a unit stops when the
    drive at its next discharge is below its threshold.

    Returns
    -------
    units, times_s
        Unit index and time of every discharge.
    """
    start = drive.crossing_s(pool.thresholds)
    units = np.flatnonzero(np.isfinite(start))
    t = start[units]
    rte, peak = pool.thresholds[units], pool.peak_rates_hz[units]
    if drive.shape == "step":
        t = t + rng.uniform(0, 1, len(units)) / _rate(drive.plateau, rte, peak)
    out_units: list[IntArray] = []
    out_times: list[FloatArray] = []
    alive = np.ones(len(units), dtype=bool)
    while alive.any():
        out_units.append(units[alive])
        out_times.append(t[alive])
        target = 1 + ISI_CV * rng.standard_normal(int(alive.sum()))
        t[alive] = t[alive] + _interval(drive, t[alive], rte[alive], peak[alive], target)
        alive[alive] = drive.at(t[alive]) >= rte[alive]
    return np.concatenate(out_units), np.concatenate(out_times)


def _interval(
    drive: Drive, t: FloatArray, threshold: FloatArray, peak: FloatArray, target: FloatArray
) -> FloatArray:
    """Intervals after discharges at ``t`` over which the rate integrates to ``target``.

    With a steady drive this is Fuglevand's rule (``target`` over the rate at the previous
    discharge); with a drive that rises within an interval the rate over the interval counts,
    so that a unit recruited on a fast ramp does not wait a whole interval at its minimum rate.
    """
    interval = target / _rate(drive.at(t), threshold, peak)
    for _ in range(RATE_ITERATIONS):
        points = t[:, None] + interval[:, None] * RATE_POINTS[None, :]
        mean_rate = _rate(drive.at(points), threshold[:, None], peak[:, None]).mean(axis=1)
        interval = target / mean_rate
    out: FloatArray = np.maximum(interval, REFRACTORY_S)
    return out


def _rate(excitation: Any, threshold: Any, peak: Any) -> FloatArray:
    rate: FloatArray = np.clip(MIN_RATE_HZ + RATE_GAIN * (excitation - threshold), None, peak)
    return np.maximum(rate, MIN_RATE_HZ)


def muap_train(
    pool: MotorUnitPool, units: IntArray, times_s: FloatArray, n: int, fs: float
) -> FloatArray:
    """Sum of every unit's MUAP at its discharges, ``n`` samples (potentials start at the
    discharge's sample)."""
    taps = pool.templates.shape[1]
    starts = np.rint(times_s * fs).astype(np.int64)
    index = (starts[:, None] + np.arange(taps)[None, :]).ravel()
    weights = pool.templates[units].ravel()
    keep = (index >= 0) & (index < n)
    summed = np.bincount(index[keep], weights[keep], minlength=n)
    out: FloatArray = np.asarray(summed[:n], dtype=np.float64)
    return out


@dataclass
class MuscleSimulation:
    """Everything simulated for one muscle of a set (for checks; the set keeps the sum).

    Attributes
    ----------
    pool
        Its motor units.
    drives
        Its excitation in every rep.
    units, times_s, reps
        Unit, time and rep index (0-based) of every discharge.
    signal_uv
        Its own noiseless sEMG at its sensor, scaled to the SNR.
    noise_uv
        The additive noise of its sensor.
    plateau
        True where its excitation is at a plateau.
    gain
        Microvolts per unit of the templates (what set the SNR).
    """

    pool: MotorUnitPool
    drives: list[Drive]
    units: IntArray
    times_s: FloatArray
    reps: IntArray
    signal_uv: FloatArray
    noise_uv: FloatArray
    plateau: npt.NDArray[np.bool_]
    gain: float

    def first_discharge_s(self, rep: int, fs: float) -> float:
        """True onset in rep ``rep``: the first discharge, at the sample its MUAP starts."""
        return float(np.rint(self.times_s[self.reps == rep].min() * fs) / fs)

    def last_discharge_s(self, rep: int, fs: float) -> float:
        """Last discharge in rep ``rep``, at its sample."""
        return float(np.rint(self.times_s[self.reps == rep].max() * fs) / fs)


def simulate_motor_unit_set(condition: FamilyCondition, seed: int) -> SyntheticSession:
    """Simulate one set of the ``motor-unit`` family.

    Parameters
    ----------
    condition
        What to simulate.
    seed
        Seed of this set's random generators.

    Returns
    -------
    SyntheticSession
        Float32 microvolt recording (channels ``glute``, ``hamstring``) and its truth.
    """
    session, _ = simulate_motor_units(condition, seed)
    return session


def simulate_motor_units(
    condition: FamilyCondition, seed: int
) -> tuple[SyntheticSession, dict[str, MuscleSimulation]]:
    """:func:`simulate_motor_unit_set`, also returning each muscle's parts.

    The spike trains depend on the seed only, not on the sample rate.

    Returns
    -------
    session, muscles
        The set, and per muscle its pool, drives, discharges, noiseless signal and noise.
    """
    streams = np.random.SeedSequence([seed, 0x4D55]).spawn(5)
    timing, pools_rng, spikes_rng, noise_rng, sensor_rng = (
        np.random.default_rng(s) for s in streams
    )
    fs = condition.fs
    onsets = condition.onset_times(timing)
    muscles: dict[str, MuscleSimulation] = {}
    for column, muscle in enumerate(MUSCLES):
        pool = motor_unit_pool(pools_rng, fs)
        drafts = [_rep_drive(pool, condition, muscle, rep[column], rep, timing) for rep in onsets]
        muscles[muscle] = _simulate_muscle(muscle, pool, drafts, condition, (spikes_rng, noise_rng))
    mvc_uv = {m: _mvc_rms(muscles[m], fs, spikes_rng) for m in MUSCLES}
    data = np.stack([_sensor(m, muscles, condition, sensor_rng) for m in MUSCLES], axis=1)
    recording = Recording(
        data=data.astype(np.float32),
        sample_rate=fs,
        channels=tuple(Channel.from_name(m, device=f"motor-unit-{m}") for m in MUSCLES),
        source=f"motor-unit family (seed={seed})",
    )
    truth = {
        "generator": "emg.sources.motor_unit_family",
        "config": {**condition.as_dict(), "seed": seed, **_model_parameters()},
        "sample_rate": fs,
        "duration_s": recording.duration_s,
        "snr_db": {m: condition.snr_db(m) for m in MUSCLES},
        "mvc_uv": mvc_uv,
        "noise_uv": NOISE_UV,
        "reps": [_truth_rep(k, muscles, fs) for k in range(len(onsets))],
        "cramp": None,
        "lost": [],
    }
    return SyntheticSession(recording, truth), muscles


def _model_parameters() -> dict[str, Any]:
    return {
        "units": N_UNITS,
        "recruitment_range": RECRUITMENT_RANGE,
        "min_rate_hz": MIN_RATE_HZ,
        "rate_gain_hz": RATE_GAIN,
        "peak_rate_hz": PEAK_RATE_HZ,
        "peak_rate_drop_hz": PEAK_RATE_DROP_HZ,
        "isi_cv": ISI_CV,
        "amplitude_range": AMPLITUDE_RANGE,
        "muap_duration_s": list(MUAP_DURATION_S),
        "plateau": PLATEAU,
        "decay_s": DECAY_S,
        "noise_uv": NOISE_UV,
        "crosstalk_lowpass_hz": CROSSTALK_LOWPASS_HZ,
    }


def _rep_drive(
    pool: MotorUnitPool,
    condition: FamilyCondition,
    muscle: str,
    onset_s: float,
    rep_onsets: tuple[float, float],
    rng: np.random.Generator,
) -> Drive:
    """The drive of one rep, starting at ``onset_s`` (shifted later to its first discharge)."""
    shape: OnsetShape = condition.shapes[int(rng.integers(len(condition.shapes)))]
    ramp = 0.0 if shape == "step" else float(rng.uniform(*condition.ramp_s(muscle)))
    level = PLATEAU[muscle] * (1 + rng.uniform(-PLATEAU_JITTER, PLATEAU_JITTER))
    earlier_off = min(rep_onsets) + condition.active_s
    offset = max(earlier_off + rng.uniform(-0.05, 0.1), onset_s + 0.4)
    return Drive(onset_s, ramp, shape, level * pool.max_excitation, offset)


def _aligned_discharges(
    pool: MotorUnitPool, drive: Drive, onset_s: float, rng: np.random.Generator
) -> tuple[Drive, IntArray, FloatArray]:
    """Discharges under ``drive``, drive and all shifted so the first falls on ``onset_s``.

    The model is time-invariant, so shifting the drive shifts its discharges."""
    units, times = discharge_times(pool, drive, rng)
    shift = onset_s - float(times.min())
    moved = dataclasses.replace(
        drive, onset_s=drive.onset_s + shift, offset_s=drive.offset_s + shift
    )
    return moved, units, times + shift


def _simulate_muscle(
    muscle: str,
    pool: MotorUnitPool,
    drafts: list[Drive],
    condition: FamilyCondition,
    rngs: tuple[np.random.Generator, np.random.Generator],
) -> MuscleSimulation:
    """Discharges, signal (scaled to the SNR) and noise of one muscle; ``rngs`` draw the
    discharges and the noise."""
    spikes_rng, noise_rng = rngs
    fs = condition.fs
    n = round(condition.duration_s() * fs)
    drives: list[Drive] = []
    trains: list[tuple[IntArray, FloatArray]] = []
    for draft in drafts:
        drive, units, times = _aligned_discharges(pool, draft, draft.onset_s, spikes_rng)
        drives.append(drive)
        trains.append((units, times))
    units = np.concatenate([u for u, _ in trains])
    times = np.concatenate([t for _, t in trains])
    reps = np.concatenate([np.full(len(u), k, dtype=np.int64) for k, (u, _) in enumerate(trains)])
    raw = muap_train(pool, units, times, n, fs)
    plateau = _plateau_mask(drives, n, fs)
    noise = NOISE_UV * additive_noise(noise_rng, n, fs, condition.noise == "coloured")
    # Bonato's SNR: plateau power of the muscle's own signal over the noise power
    power = float(np.mean(raw[plateau] ** 2))
    gain = float(np.sqrt(10 ** (condition.snr_db(muscle) / 10) * NOISE_UV**2 / power))
    return MuscleSimulation(pool, drives, units, times, reps, gain * raw, noise, plateau, gain)


def _plateau_mask(drives: list[Drive], n: int, fs: float) -> npt.NDArray[np.bool_]:
    t = np.arange(n) / fs
    mask = np.zeros(n, dtype=bool)
    for drive in drives:
        mask |= (t >= drive.onset_s + drive.ramp_s) & (t < drive.offset_s - DECAY_S)
    return mask


def additive_noise(rng: np.random.Generator, n: int, fs: float, coloured: bool) -> FloatArray:
    """Unit-RMS sensor noise: white, or white plus a 1/f part that dominates below
    ``COLOURED_CORNER_HZ`` (its power spectrum is ``1 + corner / f``).

    Parameters
    ----------
    rng
        Random generator.
    n
        Samples.
    fs
        Sample rate, Hz.
    coloured
        Add the 1/f part.

    Returns
    -------
    ndarray
        ``n`` samples with an RMS of exactly 1.
    """
    x = rng.standard_normal(n)
    if coloured:
        f = np.fft.rfftfreq(n, 1 / fs)
        shape = np.sqrt(1 + COLOURED_CORNER_HZ / np.maximum(f, f[1] if n > 1 else 1.0))
        shape[0] = 0.0
        x = np.fft.irfft(np.fft.rfft(x) * shape, n)
    rms = float(np.sqrt(np.mean(x**2)))
    out: FloatArray = x / rms if rms > 0 else x
    return out


def _mvc_rms(sim: MuscleSimulation, fs: float, rng: np.random.Generator) -> float:
    """RMS of the muscle's (scaled) signal over 1 s at maximum excitation: the MVC level."""
    pool = sim.pool
    n = round(1.5 * fs)
    full = Drive(0.0, 0.0, "step", pool.max_excitation, 1.5 + DECAY_S)
    units, times = discharge_times(pool, full, rng)
    keep = times < 1.5
    x = sim.gain * muap_train(pool, units[keep], times[keep], n, fs)
    return float(np.sqrt(np.mean(x[int(0.5 * fs) :] ** 2)))


def _sensor(
    muscle: str,
    muscles: dict[str, MuscleSimulation],
    condition: FamilyCondition,
    rng: np.random.Generator,
) -> FloatArray:
    """What ``muscle``'s sensor records: its muscle, crosstalk, noise, drift and mains."""
    fs = condition.fs
    own = muscles[muscle]
    other = muscles[MUSCLES[1 - MUSCLES.index(muscle)]]
    x = own.signal_uv + own.noise_uv
    if condition.crosstalk > 0:
        sos = signal.butter(2, min(CROSSTALK_LOWPASS_HZ, 0.4 * fs), fs=fs, output="sos")
        # volume conduction is instantaneous: zero-phase
        x = x + condition.crosstalk * signal.sosfiltfilt(sos, other.signal_uv)
    t = np.arange(len(x)) / fs
    if condition.drift_uv > 0:
        x = x + drift(rng, t, condition.drift_uv)
    if condition.mains_uv > 0:
        phase = rng.uniform(0, 2 * np.pi)
        x = x + condition.mains_uv * np.sqrt(2) * np.sin(2 * np.pi * MAINS_HZ * t + phase)
    return x


def drift(rng: np.random.Generator, t: FloatArray, peak_uv: float) -> FloatArray:
    """Slow baseline drift: two sinusoids (0.05-0.3 Hz and 0.3-0.9 Hz), peak at most
    ``peak_uv``."""
    f = np.array([rng.uniform(0.05, 0.3), rng.uniform(0.3, 0.9)])
    weights = np.array([0.6, 0.4])
    phases = rng.uniform(0, 2 * np.pi, 2)
    waves = np.sin(2 * np.pi * f[:, None] * t[None, :] + phases[:, None])
    out: FloatArray = peak_uv * (weights @ waves)
    return out


def _truth_rep(k: int, muscles: dict[str, MuscleSimulation], fs: float) -> dict[str, Any]:
    onsets = {m: muscles[m].first_discharge_s(k, fs) for m in MUSCLES}
    offsets = {m: muscles[m].last_discharge_s(k, fs) for m in MUSCLES}
    levels = {}
    extra: dict[str, Any] = {}
    for m in MUSCLES:
        drive = muscles[m].drives[k]
        levels[m] = drive.plateau / muscles[m].pool.max_excitation
        extra[f"{m}_drive_onset_s"] = drive.onset_s
        extra[f"{m}_shape"] = drive.shape
        extra[f"{m}_ramp_s"] = drive.ramp_s
        extra[f"{m}_units_recruited"] = int(np.unique(muscles[m].units[muscles[m].reps == k]).size)
    return truth_rep(k + 1, onsets, offsets, levels, extra)
