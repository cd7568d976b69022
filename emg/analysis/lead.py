"""The lead of the hamstring over the glute onset, from both muscles' rises.

Each muscle's onset is detected on its own (a threshold crossing refined back, see
:mod:`emg.dsp.onset`), and the difference of two noisy onsets has long tails: now and then a
noise excursion joins one onset, or one muscle's EMG happens to stay weak for its first tens
of milliseconds. Two things make the lead, and the order decided from it, more robust:

Rise alignment
    Each muscle's rising edge is timed as a whole, amplitude-free: its RMS envelope's power
    above rest is normalised by the power it reached when its onset was confirmed, and the
    last times (looking back from the confirmation) it was still below 5, 10, ..., 30 % of
    that are averaged (constant-fraction timing, as in pulse-timing electronics). A muscle
    recorded with more gain or less noise crosses a fixed threshold earlier; it does not
    reach a fraction of its own level earlier, so this timing needs no equal SNRs. Its errors
    are only partly shared with the refined onset's, and the lead is the weighted mean of the
    two leads (weight ``rise_weight`` on the rise alignment).
Rise starts
    A muscle that recruits slowly crosses a fixed level, and reaches a fraction of its own
    level, later in its rise than one that recruits fast, so both timings above are late by
    an amount that depends on the muscle and the lead with them. The same crossing times
    also tell when the rise began: a ramp of amplitude reaches the power fraction ``f`` at
    ``start + sqrt(f) * T``, so a straight line through the fractions' times against
    ``sqrt(f)`` meets 0 at the rise's start. That extrapolation is noisier, but its lateness
    hardly depends on the rise's speed or on the SNR (on the ``spectral`` family +5 to
    +10 ms in every condition, against +2 to +22 ms for the detected onset), and the lead
    moves towards the starts' by ``start_weight``: 0.25. On ``spectral`` 0.25 and 0.5 both
    bettered every lead and order figure of the family targets (0.75 and 1 let in too much
    scatter); 0.5 then called 4-8 % of the project's own 80 ms leads at 5 dB simultaneous
    (the suite's checks allow 7 %) and one of 900 near-zero ones hamstring-first. It costs
    nothing: the times are the rise alignment's.
Uncertainty margin
    The lead's spread grows as the muscles' levels approach the noise (on the synthetic sets
    its SD is about 5, 8 and 12 ms at 20, 10 and 5 dB, roughly 4 ms plus 18 ms over the
    amplitude SNR), so a side is called only when the lead exceeds the exercise margin by
    ``confidence_ms`` times ``sqrt(1 / (L_g - 1) + 1 / (L_h - 1))``, ``L`` each muscle's
    envelope power at its confirmation over its rest power: with the default 15 ms about 2, 5
    and 9 ms at 20, 10 and 5 dB. Within that band the rep is ``simultaneous``. The scale was
    chosen on the synthetic sets: it removes the last hamstring-first calls of true leads
    within +-20 ms at 10 dB and nearly all at 5 dB while order accuracy at |lead| >= 80 ms
    stays above 99 % from 10 dB up (at 5 dB it falls from 98 % to 96 %: the rest become
    ``simultaneous``, not the wrong side).

Fitted edges
    With the ``cusum-edge`` (the default), ``edge`` or ``bayes`` refinement each onset is the
    start of a fitted rising edge (unbiased when the two muscles recruit at different speeds,
    but more scattered; ``cusum-edge`` searches it only 30 ms before the change point),
    and the variance change point of the same rise comes with it. The change points and the
    rise alignment give a steady lead that is late by a part of each muscle's ramp, which
    cancels when the muscles rise alike. By default (``RepConfig.lead = "edges"``) the lead
    is the edges' lead moved towards the steady one by ``1 / (1 + (d / s)^2)`` of their
    difference ``d``, ``s`` the difference noise alone gives at these levels
    (:data:`AGREE_MS`): alike rises get the steady lead, a slow and a fast one the edges'.
    That removes the slow muscle's bias but lets the edges' scatter into the lead at
    5-10 dB, where on the project's own grid it calls clear reps simultaneous and near-zero
    ones hamstring-first that the steady lead gets right. With ``"steady"`` the lead is the
    steady lead alone, exactly what the CUSUM refinement gives: the fitted edges then place
    the onsets, the change points the lead and the order (the README's family tables
    compare the two).

Both use only samples up to each onset's confirmation, so the order is decided at the same
time as before and stays causal. Staude et al. 2001 compare onset estimators on simulated
sEMG and find threshold methods sensitive to SNR and rise time; Soares et al. 2013 warn that
cross-correlating whole bursts of two muscles mixes in more than their onsets, so only the
rising edges are aligned here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Fractions of the level reached at confirmation whose crossing times are averaged.
RISE_FRACTIONS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
#: Time over which the level at confirmation is averaged (the RMS envelope's window).
RISE_LEVEL_S = 0.05
#: How far before its onset's confirmation a rise is timed at most: the onset hold and the
#: CUSUM refinement's 150 ms, which the rise alignment was chosen with; a longer refinement
#: span (the fitted edge's 400 ms) does not widen it.
RISE_LOOKBACK_S = 0.25
#: Where the lead comes from with fitted-edge onsets (``RepConfig.lead``): the change points
#: and the rise alignment, or those moved towards the edges' lead.
LEADS = ("steady", "edges")
#: With fitted-edge onsets, the scale (ms, times ``sqrt(1 / (L_g - 1) + 1 / (L_h - 1))``) of
#: the disagreement between the steady lead and the edges' lead expected from noise alone;
#: chosen on the ``spectral`` simulator family (15, 30 and 60 ms tried).
AGREE_MS = 30.0


@dataclass(frozen=True)
class Rise:
    """A muscle's rising edge, timed up to its onset's confirmation.

    Attributes
    ----------
    time
        Stream sample (fractional) of its constant-fraction time; None when the envelope was
        not below every fraction somewhere in the segment (no quiet stretch to time it from).
    level
        Mean envelope power over the last ``RISE_LEVEL_S`` before the confirmation, in
        multiples of the rest power (> 1).
    start
        Stream sample (fractional) where the rise extrapolates back to nothing: the fractions'
        crossing times fitted by a straight line in the square root of the fraction (a ramp
        of amplitude reaches the power fraction ``f`` at ``start + sqrt(f) * T``), taken at
        0; None when ``time`` is.
    """

    time: float | None
    level: float
    start: float | None = None


def rise_of(
    envelope: FloatArray,
    start: int,
    rest_power: float,
    level_window: int,
    fractions: tuple[float, ...] = RISE_FRACTIONS,
) -> Rise | None:
    """Time a rise in an RMS envelope segment that ends at its onset's confirmation.

    Parameters
    ----------
    envelope
        RMS envelope of one muscle, 1-D, from before its onset up to and including the sample
        at which the onset was confirmed.
    start
        Stream index of ``envelope[0]``.
    rest_power
        Mean envelope power at rest (mean squared plus variance of the rest envelope).
    level_window
        Samples over which the level at confirmation is averaged.
    fractions
        Fractions of the rise (in power above rest) whose last crossings are averaged.

    Returns
    -------
    Rise or None
        None when the segment is empty, the rest power unknown or the level not above it.
    """
    if len(envelope) == 0 or not rest_power > 0:
        return None
    power = np.square(np.asarray(envelope, dtype=np.float64))
    tail = power[-level_window:]
    level = float(tail.sum() / len(tail))  # the numbers of .mean(), faster
    if not level > rest_power:
        return None
    normalised = (power - rest_power) / (level - rest_power)
    below = normalised[:, None] < np.asarray(fractions)[None, :]
    if not below.any(axis=0).all():
        return Rise(None, level / rest_power)
    # first sample after the last one below each fraction
    after_last = (len(normalised) - np.argmax(below[::-1], axis=0)).astype(np.float64)
    return Rise(
        start + float(after_last.mean()),
        level / rest_power,
        start + _extrapolated_start(after_last, np.sqrt(np.asarray(fractions, dtype=np.float64))),
    )


def _extrapolated_start(times: FloatArray, root_fractions: FloatArray) -> float:
    """Where the least-squares line of ``times`` against ``root_fractions`` is at 0 (the
    mean time when the fractions are all alike)."""
    spread = root_fractions - root_fractions.mean()
    variance = float(spread @ spread)
    if variance <= 0:
        return float(times.mean())
    slope = float(spread @ (times - times.mean())) / variance
    return float(times.mean() - slope * root_fractions.mean())


@dataclass(frozen=True)
class LeadEstimate:
    """The lead and how far beyond the margin it must be to call a side.

    Attributes
    ----------
    lead_ms
        Hamstring minus glute onset, milliseconds.
    uncertainty_ms
        Extra margin from the lead's uncertainty (0 when the rule is off or a level is
        unknown).
    """

    lead_ms: float
    uncertainty_ms: float


def estimate_lead(
    onsets: tuple[int, int],
    rises: tuple[Rise | None, Rise | None],
    fs: float,
    rise_weight: float = 0.5,
    confidence_ms: float = 15.0,
    changes: tuple[int, int] | None = None,
    follow_edges: bool = True,
    start_weight: float = 0.0,
) -> LeadEstimate:
    """Combine the detected onsets and the rises of the glute and the hamstring.

    Parameters
    ----------
    onsets
        Detected onset samples (glute, hamstring).
    rises
        Rises of (glute, hamstring), see :func:`rise_of`.
    fs
        Sample rate in Hz.
    rise_weight
        Weight of the rise alignment in the lead (0: the difference of the detected onsets).
    confidence_ms
        Scale of the uncertainty margin (0 turns it off).
    changes
        The variance change points (CUSUM) of (glute, hamstring), when the onsets are fitted
        edges (see "Fitted edges" above).
    follow_edges
        With ``changes``: move the steady lead towards the edges' (see "Fitted edges");
        False: the steady lead alone, as the CUSUM refinement gives it.
    start_weight
        Weight of the rises' extrapolated starts in the steady lead (see "Rise starts").

    Returns
    -------
    LeadEstimate
        The lead; the rise alignment is left out when either rise could not be timed.
    """
    glute, hamstring = rises
    lead = float(onsets[1] - onsets[0])
    steady = lead if changes is None else float(changes[1] - changes[0])
    if (
        rise_weight > 0
        and glute is not None
        and hamstring is not None
        and glute.time is not None
        and hamstring.time is not None
    ):
        steady += rise_weight * ((hamstring.time - glute.time) - steady)
    if (
        start_weight > 0
        and glute is not None
        and hamstring is not None
        and glute.start is not None
        and hamstring.start is not None
    ):
        steady += start_weight * ((hamstring.start - glute.start) - steady)
    if changes is None or not follow_edges:
        lead = steady
    elif glute is not None and hamstring is not None:
        # the steady estimate is late by a part of each muscle's ramp: trust it as far as it
        # agrees with the fitted edges within the scatter expected at these levels
        scatter = AGREE_MS / 1000 * fs * np.sqrt(1 / (glute.level - 1) + 1 / (hamstring.level - 1))
        lead += (steady - lead) / (1.0 + ((steady - lead) / scatter) ** 2)
    uncertainty = 0.0
    if confidence_ms > 0 and glute is not None and hamstring is not None:
        uncertainty = confidence_ms * float(
            np.sqrt(1 / (glute.level - 1) + 1 / (hamstring.level - 1))
        )
    return LeadEstimate(lead / fs * 1000, uncertainty)
