"""How well could any onset estimator do? An idealised one on the ``spectral`` family.

The family's sets (:mod:`emg.sources.spectral_family`) are simulated as ``emg validate
--family spectral`` does, and each true onset is estimated by a Bayesian estimator that is
given more than any real detector has:

- the rest power (from 0.35-0.9 s before the true onset) and the plateau power (the mean
  power where the rise is above 80 % of it), both from the recording around the truth;
- the whole rise, up to 0.35 s after the true onset, band-passed without phase delay
  (a real detector decides 100 ms after its threshold crossing, from filtered samples);
- a prior over the rise: with ``--prior family`` the family's own shapes (step, linear,
  sigmoid, exponential from 2 % of the plateau) and ramp range for the condition, i.e. what
  the generator draws from; with ``--prior generic`` the same four shapes with ramps of
  10-300 ms for every muscle, i.e. without knowing which muscle is the slow one.

The posterior of each onset is a sum over shapes and ramps (the likelihood of the squared
samples, each worth 1 / (3 ms x fs) of an independent sample), and the lead's posterior is
the difference of the two onsets'. A side is called when the posterior puts more than ``q``
of the lead beyond the exercise margin (50 ms) on that side: with ``q`` = 0.5 that is its
median against the margin, as the analysis calls a lead; a larger ``q`` is a margin that
takes each rep's own uncertainty into account. The table is what the signal itself allows,
not a method to use: it shows how far the accuracy targets of the validation are from what
can be reached.

Usage: ``python benchmarks/bench_onset_bound.py [--seeds 8] [--prior generic]
[--condition "equal SNR: 10 dB"] ...``
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import numpy.typing as npt
from scipy import signal
from scipy.special import logsumexp

from emg.sources.families import simulate_family
from emg.sources.family_conditions import ONSET_SHAPES, FamilyCondition, OnsetShape
from emg.sources.spectral_family import onset_activation
from emg.validation.families import family_cases

FloatArray = npt.NDArray[np.float64]
MARGIN_MS = 50.0
#: samples per independent sample of the band-passed signal, per kHz of sample rate
CORRELATION_MS = 3.0
STEP_SAMPLES = 2


def onset_posterior(
    y: FloatArray, fs: float, t0: float, ramps: dict[OnsetShape, list[float]]
) -> tuple[FloatArray, FloatArray]:
    """Posterior of the onset of one muscle around its true onset ``t0``.

    Returns
    -------
    offsets, posterior
        Candidate onsets minus ``t0`` (seconds) and their posterior probabilities.
    """
    i0, i1 = int((t0 - 0.35) * fs), int((t0 + 0.35) * fs)
    squares = y[i0:i1] ** 2
    rest = float(np.mean(y[int((t0 - 0.9) * fs) : i0] ** 2))
    t = np.arange(i0, i1) / fs
    offsets = np.arange(-0.3, 0.15, STEP_SAMPLES / fs)
    temper = 1.0 / (CORRELATION_MS * fs / 1000)
    log_posterior = []
    for shape, shape_ramps in ramps.items():
        for ramp in shape_ramps:
            rise = onset_activation(t[None, :] - (t0 + offsets)[:, None], shape, ramp) ** 2
            plateau = rise > 0.8
            level = np.maximum(
                (squares[None, :] * plateau).sum(1) / np.maximum(plateau.sum(1), 1) - rest, 1e-9
            )
            model = rest + level[:, None] * rise
            log_likelihood = -np.sum(np.log(model) + squares[None, :] / model, axis=1)
            prior = -np.log(len(ramps) * len(shape_ramps))
            log_posterior.append(prior + temper * log_likelihood)
    combined = logsumexp(np.array(log_posterior), axis=0)
    posterior = np.exp(combined - combined.max())
    return offsets, posterior / posterior.sum()


#: how sure the posterior must be of a side to call it
CERTAINTIES = (0.5, 0.9, 0.99)


def called(beyond_glute: float, beyond_hamstring: float, certainty: float) -> str:
    """The side called from the posterior shares of the lead beyond the margin either way."""
    if beyond_glute > certainty:
        return "glute-first"
    if beyond_hamstring > certainty:
        return "hamstring-first"
    return "simultaneous"


def run(
    condition: FamilyCondition, seeds: int, leads: list[float], prior: str
) -> list[tuple[float, float, float, float]]:
    """(true lead, lead from the posterior median, posterior share of the lead beyond the
    margin on the glute-first side, and on the hamstring-first side) of every rep."""
    rows = []
    for seed in range(seeds):
        for lead in leads:
            for fs in (1000.0, 2000.0):
                cond = dataclasses.replace(condition, fs=fs, lead_ms=lead)
                session = simulate_family("spectral", cond, 5000 + seed)
                sos = signal.butter(4, [20, min(450, 0.45 * fs)], "bandpass", fs=fs, output="sos")
                y = signal.sosfiltfilt(sos, session.recording.data.astype(np.float64), axis=0)
                for rep in session.truth["reps"]:
                    posteriors = []
                    for column, muscle in enumerate(("glute", "hamstring")):
                        low, high = cond.ramp_s(muscle) if prior == "family" else (0.01, 0.3)
                        shapes = cond.shapes if prior == "family" else ONSET_SHAPES
                        count = 6 if prior == "family" else 10
                        ramps: dict[OnsetShape, list[float]] = {
                            s: [0.0] if s == "step" else np.linspace(low, high, count).tolist()
                            for s in shapes
                        }
                        posteriors.append(
                            onset_posterior(y[:, column], fs, rep[f"{muscle}_onset_s"], ramps)
                        )
                    (offsets, glute), (_, hamstring) = posteriors
                    difference = np.convolve(hamstring, glute[::-1])
                    grid_ms = (np.arange(len(difference)) - (len(offsets) - 1)) * (
                        STEP_SAMPLES / fs * 1000
                    )
                    median = grid_ms[np.searchsorted(np.cumsum(difference), 0.5)]
                    possible = rep["lead_ms"] + grid_ms
                    rows.append(
                        (
                            rep["lead_ms"],
                            rep["lead_ms"] + median,
                            float(difference[possible > MARGIN_MS].sum()),
                            float(difference[possible < -MARGIN_MS].sum()),
                        )
                    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--prior", choices=["family", "generic"], default="generic")
    parser.add_argument(
        "--condition",
        action="append",
        help="family condition, e.g. 'equal SNR: 10 dB' (default: that and 'recruitment: "
        "glute slow, 20 dB')",
    )
    args = parser.parse_args()
    cases = {f"{c.group}: {c.label}": c for c in family_cases(8)}
    labels = args.condition or ["equal SNR: 10 dB", "recruitment: glute slow, 20 dB"]
    print(f"spectral family, {args.seeds} seeds x 1 and 2 kHz, prior {args.prior}\n")
    print(
        "| condition | lead error, median | p95 \\|error\\| | side called when sure to | "
        "order right, \\|lead\\| = 80 ms | \\|lead\\| <= 20 ms called hamstring-first |"
    )
    print("|---|---|---|---|---|---|")
    for label in labels:
        rows = np.array(run(cases[label].condition, args.seeds, [-80, -20, 0, 20, 80], args.prior))
        errors = rows[:, 1] - rows[:, 0]
        clear = np.abs(rows[:, 0]) >= 79
        near = np.abs(rows[:, 0]) <= 21
        for certainty in CERTAINTIES:
            calls = np.array([called(g, h, certainty) for g, h in rows[:, 2:]])
            right = np.where(rows[:, 0] > 0, calls == "glute-first", calls == "hamstring-first")
            print(
                f"| {label} | {np.median(errors):+.1f} ms "
                f"| {np.percentile(np.abs(errors), 95):.1f} ms | {certainty:g} "
                f"| {right[clear].mean() * 100:.1f} % of {clear.sum()} "
                f"| {(calls[near] == 'hamstring-first').sum()} of {near.sum()} |"
            )


if __name__ == "__main__":
    main()
