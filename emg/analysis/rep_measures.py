"""What is measured of one rep, as functions of its samples: the order decided from its lead,
the muscles' levels and ratio, each burst's median frequency and the hamstring level before it.

The rep tracker (:mod:`emg.analysis.reps`) decides when a rep starts, is decided and ends, and
hands these functions the samples; they keep no state.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from emg.analysis.lead import LeadEstimate
from emg.dsp.spectral import noise_corrected_median_frequency
from emg.order import Order, classify_order

FloatArray = npt.NDArray[np.float64]


class OrderDecision(NamedTuple):
    """A rep's order and what it was decided from.

    Attributes
    ----------
    order
        ``glute-first``, ``hamstring-first`` or ``simultaneous``.
    lead_ms
        Hamstring minus glute onset (None when not both switched on in the rep).
    margin_ms
        How far from zero the lead had to be for a side to be called (None without a lead).
    """

    order: Order
    lead_ms: float | None
    margin_ms: float | None


def decide_order(
    estimate: LeadEstimate | None,
    carried: tuple[str, ...],
    hamstring_on: bool,
    margin_ms: float,
) -> OrderDecision:
    """The order of a rep.

    Parameters
    ----------
    estimate
        The lead, when both muscles switched on in the rep (see
        :func:`emg.analysis.lead.estimate_lead`).
    carried
        Muscles already active from before the rep: the one still on led.
    hamstring_on
        Whether the hamstrings switched on in the rep (without a lead: only one muscle did).
    margin_ms
        The exercise's margin; the lead's uncertainty is added to it.

    Returns
    -------
    OrderDecision
    """
    if estimate is not None:
        margin = margin_ms + estimate.uncertainty_ms
        return OrderDecision(classify_order(estimate.lead_ms, margin), estimate.lead_ms, margin)
    if "glute" in carried:
        return OrderDecision("glute-first", None, None)
    if "hamstring" in carried or hamstring_on:
        return OrderDecision("hamstring-first", None, None)
    return OrderDecision("glute-first", None, None)


class RepLevels(NamedTuple):
    """How hard each muscle worked over a rep.

    Attributes
    ----------
    glute, hamstring
        Mean RMS envelope over the rep over its reference (%MVC, or multiples of rest); NaN
        for a reference that is not positive.
    ratio
        Glute : hamstring level (None when the hamstring level is not positive).
    hamstring_share
        Hamstring / (glute + hamstring) (None when both are zero).
    """

    glute: float
    hamstring: float
    ratio: float | None
    hamstring_share: float | None


def rep_levels(envelope: FloatArray, references: tuple[float, float]) -> RepLevels:
    """Levels, ratio and hamstring share of a rep.

    Parameters
    ----------
    envelope
        RMS envelopes of (glute, hamstring) over the rep, ``(n_samples, 2)``.
    references
        What each level is expressed in (the MVC's RMS, or the rest RMS).

    Returns
    -------
    RepLevels
    """
    # sum / n: the numbers of .mean(), without its per-call overhead
    means = envelope.sum(axis=0) / len(envelope) if len(envelope) else np.full(2, np.nan)
    g, h = (
        float(means[i] / reference) if reference > 0 else float("nan")
        for i, reference in enumerate(references)
    )
    return RepLevels(g, h, g / h if h > 0 else None, h / (g + h) if g + h > 0 else None)


def burst_median_frequency(
    burst: FloatArray, fs: float, noise: FloatArray | None
) -> tuple[float | None, float | None]:
    """Median frequency of one muscle's burst and its standard error.

    With the rest spectrum taken out, the quiet edges of the burst no longer pull the median
    up, so the whole burst is used: the longer, the smaller the error.

    Parameters
    ----------
    burst
        Filtered signal of the burst, ``(n_samples, 1)``, C-contiguous.
    fs
        Sample rate, Hz.
    noise
        Welch density of the rest, ``(n_frequencies, 1)``, or None for no correction.

    Returns
    -------
    median frequency, standard error
        Hz; None when the burst is too short.
    """
    mdf, error = noise_corrected_median_frequency(burst, fs, noise)
    if np.isnan(mdf[0]):
        return None, None
    return float(mdf[0]), None if np.isnan(error[0]) else float(error[0])


def level_before(
    envelope: FloatArray, rest_mean: float, rest_sd: float, reference: float, elevated_sd: float
) -> tuple[float | None, bool]:
    """A muscle's level in the window before a rep, and whether it was above its rest.

    Parameters
    ----------
    envelope
        RMS envelope of the window (not empty).
    rest_mean, rest_sd
        The rest level of the envelope and its SD.
    reference
        What the level is expressed in.
    elevated_sd
        How many rest SDs above the rest level count as elevated.

    Returns
    -------
    level, elevated
        The level (None for a reference that is not positive) and whether it was elevated.
    """
    level = float(envelope.mean())
    return (
        level / reference if reference > 0 else None,
        level > rest_mean + elevated_sd * rest_sd,
    )
