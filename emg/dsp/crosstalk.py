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
partner channels, fitted over the segment the onset is placed in. The muscle's own activity
comes from other motor units and is not correlated with the neighbour's at zero lag, so the
fit takes out only what the partners explain; with no crosstalk the coefficients are noise
(about ``1 / sqrt(n)``) and change little. One zero-lag coefficient takes out the part of a
filtered copy that is in phase with the neighbour, not all of it. Lost samples (NaN) are
left out of the fit and stay lost.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: fewest samples per regressor (other channel) that a fit needs; fewer leave the channel as is
MIN_SAMPLES_PER_CHANNEL = 20


def remove_crosstalk(x: FloatArray, others: FloatArray) -> FloatArray:
    """``x`` minus its zero-lag least-squares regression on ``others``.

    Parameters
    ----------
    x
        Band-passed signal of one channel, 1-D; NaN where samples were lost.
    others
        Band-passed signals of the other channels over the same samples,
        ``(n_others, len(x))``; NaN where lost.

    Returns
    -------
    ndarray
        A new array: ``x`` with what ``others`` explain removed (where a channel of
        ``others`` was lost, it takes nothing away); ``x`` unchanged (a copy) when there are
        no other channels or too few samples to fit.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> glute = rng.standard_normal(1000)
    >>> own = 0.1 * rng.standard_normal(1000)
    >>> cleaned = remove_crosstalk(own + 0.05 * glute, glute[None, :])
    >>> bool(np.mean(cleaned**2) < 1.05 * np.mean(own**2))
    True
    """
    out = np.array(x, dtype=np.float64)
    others = np.asarray(others, dtype=np.float64)
    if others.size == 0:
        return out
    fitted = np.isfinite(out) & np.isfinite(others).all(axis=0)
    if fitted.sum() < MIN_SAMPLES_PER_CHANNEL * len(others):
        return out
    design = others[:, fitted].T
    coefficients, *_ = np.linalg.lstsq(design, out[fitted], rcond=None)
    out -= coefficients @ np.nan_to_num(others)
    return out
