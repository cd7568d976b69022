"""Crosstalk from neighbouring muscles taken out of a channel before its onset is placed.

A sensor over the hamstrings also picks up the glutes a few centimetres away (and the other
way round). Volume conduction in tissue is quasi-static, so what arrives is an attenuated and
filtered copy of the neighbour's signal at the same instant (Farina, Merletti & Stegeman
2004; De Luca et al. 2012 measure how much of it reaches bipolar sensors). While the
neighbour is active and the muscle itself still at rest, that copy raises the channel's power
above its rest level, and an onset refinement that looks for the first rise of power walks
back into it: with 5 % crosstalk the later muscle's onset was placed up to 150 ms early in a
few per cent of reps.

The copy is removed by least squares: the channel minus its zero-lag regression on its
partner channels that are more active than it (crosstalk flows from the active muscle to the
quiet one; the other way round, the regression would remove the muscle's own signal),
fitted over the segment the onset is placed in. The muscle's own activity
comes from other motor units and is not correlated with the neighbour's at zero lag, so the
fit takes out only what the partners explain; with no crosstalk the coefficients are noise
(about ``1 / sqrt(n)``) and change little. One zero-lag coefficient takes out the part of a
filtered copy that is in phase with the neighbour, not all of it. Lost samples (NaN) are
left out of the fit and stay lost.

Only the onset's placement sees the cleaned channel; the threshold that decides a burst exists
still runs on the channel as recorded. Crosstalk strong enough to cross that threshold on its
own (at 20 dB, 5 % of the neighbour's amplitude is a quarter of the rest power) makes the
crossing early, so once a partner's crosstalk has been taken out the onset is searched for up
to the burst's confirmation instead of its crossing (:mod:`emg.dsp.onset`). On ``spectral``
sets (20 dB, 80 ms leads, 8 seeds, the CUSUM) the later muscle's onsets that came more than
20 ms early: with 5 % crosstalk 27 % without the removal, 12 % with it bounded by the crossing,
none bounded by the confirmation; with 10 % crosstalk 98, 91 and 2 %.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: fewest samples per regressor (other channel) that a fit needs; fewer leave the channel as is
MIN_SAMPLES_PER_CHANNEL = 20
#: how many standard errors a coefficient must be from 0 to be taken out
SIGNIFICANCE = 3.0
#: how far apart (seconds) two samples of band-passed sEMG may still be correlated: the
#: standard errors count the correlation of the fit's terms up to this lag (Newey-West)
CORRELATION_S = 0.010


def remove_crosstalk(
    x: FloatArray,
    others: FloatArray,
    rest_power: float,
    others_rest_power: FloatArray,
    upto: int | None = None,
    max_lag: int = 0,
) -> FloatArray:
    """``x`` minus its zero-lag least-squares regression on those of ``others`` that are more
    active than it (the coefficients of :func:`crosstalk_coefficients`).

    Parameters
    ----------
    x, others, rest_power, others_rest_power, upto, max_lag
        As for :func:`crosstalk_coefficients`; the regression is taken out of all of ``x``.

    Returns
    -------
    ndarray
        A new array: ``x`` with what the more active partners explain removed (where a
        partner was lost, it takes nothing away); ``x`` unchanged (a copy) when no
        coefficient is kept.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> glute = 10 * rng.standard_normal(1000)  # active
    >>> own = rng.standard_normal(1000)  # at rest
    >>> cleaned = remove_crosstalk(own + 0.1 * glute, glute[None, :], 1.0, np.array([1.0]))
    >>> bool(np.mean(cleaned**2) < 1.05 * np.mean(own**2))
    True
    """
    coefficients = crosstalk_coefficients(x, others, rest_power, others_rest_power, upto, max_lag)
    return subtract_crosstalk(x, others, coefficients)


def subtract_crosstalk(x: FloatArray, others: FloatArray, coefficients: FloatArray) -> FloatArray:
    """``x`` minus ``coefficients`` times each of ``others`` (a lost sample of a partner takes
    nothing away; a lost sample of ``x`` stays lost); a copy of ``x`` when all are 0."""
    out = np.array(x, dtype=np.float64)
    if coefficients.any():
        out -= coefficients @ np.nan_to_num(np.asarray(others, dtype=np.float64))
    return out


def crosstalk_coefficients(
    x: FloatArray,
    others: FloatArray,
    rest_power: float,
    others_rest_power: FloatArray,
    upto: int | None = None,
    max_lag: int = 0,
) -> FloatArray:
    """The zero-lag regression coefficients of ``x`` on those of ``others`` that are more
    active than it.

    Crosstalk flows from the more active muscle to the quieter one. Regressing the active
    muscle's channel on a quiet partner that carries a copy of it would take its own signal
    out (the coefficient is about ``1 / crosstalk``), so a partner is used only when its
    power over rest, over ``x[:upto]``'s samples, exceeds that of ``x``.

    Parameters
    ----------
    x
        Band-passed signal of one channel, 1-D; NaN where samples were lost.
    others
        Band-passed signals of its partner channels over the same samples,
        ``(n_others, len(x))``; NaN where lost.
    rest_power, others_rest_power
        Mean square at rest of ``x`` and of each of ``others``.
    upto
        Samples of the segment over which the activities are compared and the coefficients
        fitted (None: all of it), e.g. up to the threshold crossing: the muscle's own burst
        after it would only add noise to the fit.
    max_lag
        Samples over which the signals may be correlated (:data:`CORRELATION_S` times the
        sample rate): the standard errors are Newey-West's, which allow for a variance that
        changes along the segment (the muscle's own rise at its end) and for correlation up
        to this lag. With errors that take the samples as independent and alike, 7-11 % of
        the onsets of family sets without crosstalk had a "significant" coefficient taken
        out, instead of the nominal 0.3 %; with these, 1-5 %.

    Returns
    -------
    ndarray
        One coefficient per partner: 0 for a partner that is not more active, and for one
        whose coefficient is within :data:`SIGNIFICANCE` standard errors of 0; all 0 when
        there are too few samples to fit.
    """
    x = np.asarray(x, dtype=np.float64)
    others = np.asarray(others, dtype=np.float64)
    out = np.zeros(len(others))
    if others.size == 0 or not rest_power > 0:
        return out
    window = slice(0, upto)
    activity = _mean_square(x[window]) / rest_power
    louder = [
        k
        for k, power in enumerate(np.asarray(others_rest_power, dtype=np.float64))
        if power > 0 and _mean_square(others[k, window]) / power > activity
    ]
    if not louder:
        return out
    used = others[louder]
    fitted = np.isfinite(x) & np.isfinite(used).all(axis=0)
    if upto is not None:
        fitted[upto:] = False  # the fit, like the comparison, stops at `upto`
    if fitted.sum() < MIN_SAMPLES_PER_CHANNEL * len(used):
        return out
    design = used[:, fitted].T
    coefficients, _, rank, _ = np.linalg.lstsq(design, x[fitted], rcond=None)
    if rank < len(used):
        return out
    residual = x[fitted] - design @ coefficients
    errors = _standard_errors(design, residual, np.flatnonzero(fitted), max_lag)
    # only what the partners explain beyond chance: a coefficient of noise would put a copy
    # of the partner's rise into the channel
    coefficients[np.abs(coefficients) < SIGNIFICANCE * errors] = 0.0
    out[louder] = coefficients
    return out


def _standard_errors(
    design: FloatArray, residual: FloatArray, at: npt.NDArray[np.intp], max_lag: int
) -> FloatArray:
    """Newey-West standard errors of least-squares coefficients.

    ``design`` ``(n, p)`` and ``residual`` ``(n,)`` at the samples ``at`` (increasing, with
    gaps where samples were lost): the fit's terms ``design * residual`` may differ in
    variance along the segment and be correlated up to ``max_lag`` samples apart, with
    weights ``1 - k / (max_lag + 1)``.
    """
    span = int(at[-1] - at[0]) + 1
    scores = np.zeros((span, design.shape[1]))
    scores[at - at[0]] = design * residual[:, None]  # 0 where a sample was lost
    meat = scores.T @ scores
    for lag in range(1, min(max_lag, span - 1) + 1):
        cross = scores[lag:].T @ scores[:-lag]
        meat += (1.0 - lag / (max_lag + 1)) * (cross + cross.T)
    bread = np.linalg.inv(design.T @ design)
    errors: FloatArray = np.sqrt(np.maximum(np.diag(bread @ meat @ bread), 0.0))
    return errors


def _mean_square(x: FloatArray) -> float:
    """Mean square of the samples that arrived (0 when none did)."""
    kept = x[np.isfinite(x)]
    return float(np.mean(kept * kept)) if len(kept) else 0.0
