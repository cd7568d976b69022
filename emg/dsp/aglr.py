"""Onset time by Staude's AGLR-step: the maximum-likelihood start of a variance step.

Staude & Wolf (1999) and Staude et al. (2001) model the sEMG at an onset as zero-mean noise
whose variance steps from the rest value ``s0`` to an unknown ``s1``. The log-likelihood ratio
of a step at ``k`` within a window that ends at ``n``, ``s1`` replaced by its maximum-likelihood
estimate ``mean(x[k:n]^2)``, is

    (n - k) / 2 * (rho_k - 1 - ln rho_k),   rho_k = mean(x[k:n]^2) / s0,

and the onset is the ``k`` that maximises it (the generalised likelihood ratio's change-time
estimate; "approximated" because the window is finite). Here the main detector's threshold has
already decided that a burst exists; the window is the samples from the refinement span before
it up to the detection threshold's crossing (or, once a partner's crosstalk has been taken out,
up to the confirmation), and ``s0`` is the detector's rest power. Unlike the variance CUSUM,
which is tuned to one variance ratio, the step's size is fitted.

Staude et al. whiten the signal with an autoregressive model of the rest first. The band-passed
signal is not whitened here (as for Bonato's test, :mod:`emg.dsp.double_threshold`, and the
CUSUM): its correlated samples are taken as independent, which overstates how sure a maximum is
rather than where it lies. Samples lost in transit (NaN) count for neither the rest nor the
step, and a maximum among them is put at their middle. A run of them that ends the window holds
no evidence of a step at all, so the onset is placed from the samples received before it; when
no candidate's window rose above the rest, the onset stays at the window's end, as far as the
refinement can say, the crossing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from emg.dsp.edge_onset import inside_gap

FloatArray = npt.NDArray[np.float64]


def aglr_step_onset(x: FloatArray, noise_power: float, end: int) -> int:
    """Maximum-likelihood start of a variance step in ``x[:end + 1]``.

    Parameters
    ----------
    x
        Band-passed signal from the earliest sample the onset may be at, 1-D; NaN where
        samples were lost.
    noise_power
        Mean square of the signal at rest (``s0``).
    end
        Index into ``x`` of the window's last sample (the detection threshold's crossing, or
        the confirmation once crosstalk has been taken out).

    Returns
    -------
    int
        Index into ``x`` of the onset: 0 when the step began before ``x``, ``end`` when no
        window rose above the rest (nothing to move the onset back for).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.standard_normal(1200)
    >>> x[800:] *= 6  # a step at 800
    >>> abs(aglr_step_onset(x, 1.0, 850) - 800) < 10
    True
    """
    end = min(max(end, 0), len(x) - 1)
    if end < 1 or not noise_power > 0:
        return max(end, 0)
    squares = np.square(x[: end + 1]) / noise_power
    lost = np.isnan(squares)
    squares[lost] = 0.0
    # from each k to the window's end: the sum of squares and the samples received
    total = np.cumsum(squares[::-1])[::-1]
    count = np.cumsum((~lost)[::-1])[::-1].astype(np.float64)
    rho = total / np.maximum(count, 1.0)
    # a step down is no onset: only the candidates whose window rose count
    ratio = np.maximum(rho, 1.0)
    log_likelihood = 0.5 * count * (ratio - 1.0 - np.log(ratio))
    k = int(np.argmax(log_likelihood))
    return inside_gap(k, lost) if log_likelihood[k] > 0 else end
