"""Onset time by Staude's AGLR-step: the maximum-likelihood start of a variance step.

Staude & Wolf (1999) and Staude et al. (2001) model the sEMG at an onset as zero-mean noise
whose variance steps from the rest value ``s0`` to an unknown ``s1``. The log-likelihood ratio
of a step at ``k`` within a window that ends at ``n``, ``s1`` replaced by its maximum-likelihood
estimate ``mean(x[k:n]^2)``, is

    (n - k) / 2 * (rho_k - 1 - ln rho_k),   rho_k = mean(x[k:n]^2) / s0,

and the onset is the ``k`` that maximises it (the generalised likelihood ratio's change-time
estimate; "approximated" because the window is finite). Here the main detector's threshold has
already decided that a burst exists; the window is the samples from the refinement span (150
ms) before its threshold crossing up to the crossing (up to its confirmation once a partner's
crosstalk has been taken out, as for the other refinements), and ``s0`` is the detector's rest
power. Unlike the variance CUSUM, which is tuned to one variance ratio, the step's size is
fitted, but only a step to at least :data:`MIN_STEP_RATIO` times the rest power counts: up to
the crossing the window holds only the first, weak samples of a burst, and a step of any size
fitted to them took in the noise bumps before the onset now and then. Chosen on the
``spectral`` simulator family (1, 2 and 4 tried; at 20 / 10 / 5 dB): with no minimum 2.2 / 2.9 /
4.0 % of the onsets came more than 20 ms early, with 2 1.1 / 1.1 / 0.9 % (none more than 40 ms)
and the same medians, with 4 none but the median at 5 dB 21 ms instead of 14 ms. Ending the
window at the confirmation instead left almost no early onsets either, but made every median
1-5 ms later (on the project's own generator 11.0 and 20.6 ms at 20 and 10 dB, over the 10 and
20 ms targets).

Staude et al. whiten the signal with an autoregressive model of the rest first. The band-passed
signal is not whitened here (as for Bonato's test, :mod:`emg.dsp.double_threshold`, and the
CUSUM): its correlated samples are taken as independent, which overstates how sure a maximum is
rather than where it lies. Samples lost in transit (NaN) count for neither the rest nor the
step, and a maximum among them is put at their middle. A run of them that ends the window holds
no evidence of a step at all, so the onset is placed from the samples received before it; when
no candidate's window rose above the rest, the onset stays at the window's end.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from emg.dsp.edge_onset import inside_gap

FloatArray = npt.NDArray[np.float64]

#: the smallest step, in multiples of the rest power, taken for an onset
MIN_STEP_RATIO = 2.0


def aglr_step_onset(
    x: FloatArray, noise_power: float, crossing: int, min_ratio: float = MIN_STEP_RATIO
) -> int:
    """Maximum-likelihood start of a variance step in ``x``, not after ``crossing``.

    Parameters
    ----------
    x
        The window: band-passed signal from the earliest sample the onset may be at to the
        last one the step is fitted to (in the chain the crossing, or the confirmation once
        crosstalk has been taken out), 1-D; NaN where samples were lost.
    noise_power
        Mean square of the signal at rest (``s0``).
    crossing
        Index into ``x`` of the latest sample the onset may be at (in the chain the window's
        last).
    min_ratio
        The smallest step (its fitted variance over ``noise_power``) taken for an onset.

    Returns
    -------
    int
        Index into ``x`` of the onset, never after ``crossing``: 0 when the step began before
        ``x``, ``crossing`` when no step of at least ``min_ratio`` times the rest starts by
        then (nothing to move the onset back for).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.standard_normal(1200)
    >>> x[800:] *= 6  # a step at 800
    >>> abs(aglr_step_onset(x[:851], 1.0, 850) - 800) < 10
    True
    """
    if len(x) == 0:
        return 0
    crossing = min(max(crossing, 0), len(x) - 1)
    if not noise_power > 0:
        return crossing
    with np.errstate(over="ignore"):
        squares = np.square(x) / noise_power
    lost = np.isnan(squares)
    squares[lost] = 0.0
    # from each k to the window's end: the sum of squares and the samples received
    total = np.cumsum(squares[::-1])[::-1]
    count = np.cumsum((~lost)[::-1])[::-1].astype(np.float64)
    rho = total / np.maximum(count, 1.0)
    # only a step up by at least min_ratio is an onset (and none whose power overflowed)
    ratio = np.maximum(rho, 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        fitted = 0.5 * count * (ratio - 1.0 - np.log(ratio))
    log_likelihood = np.where((rho >= min_ratio) & np.isfinite(fitted), fitted, -np.inf)
    k = int(np.argmax(log_likelihood[: crossing + 1]))
    if not log_likelihood[k] > 0:
        return crossing
    return inside_gap(k, lost[: crossing + 1])  # a gap cut at the crossing: not after it
