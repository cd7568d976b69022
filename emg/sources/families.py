"""Simulator families for validation: independent models of a glute/hamstring set.

The project's own generator (:mod:`emg.sources.synthetic`) is one model of sEMG; a detector
tuned on it can look better than it is. A *family* is another, independently written model
that produces the same thing (a :class:`~emg.sources.synthetic.SyntheticSession`: a recording
and its exact ground truth, in the truth format ``emg synth`` writes) from a
:class:`FamilyCondition`, so that ``emg validate --family`` can put every family through the
same analysis and the same scoring.

Families:

- ``own``: the project's generator (:mod:`emg.sources.synthetic`), linear ramps of 50 ms.
- ``spectral``: Gaussian noise shaped by a standard sEMG power spectrum, amplitude-modulated by
  step, linear, sigmoid and exponential onsets (:mod:`emg.sources.spectral_family`).
- ``motor-unit``: a motor-unit pool with recruitment and rate coding, summed MUAP trains
  (:mod:`emg.sources.motor_unit_family`).
"""

from __future__ import annotations

from collections.abc import Callable

from emg.sources.family_conditions import FamilyCondition
from emg.sources.synthetic import SyntheticSession

#: a family: (condition, seed) -> the set and its truth
Family = Callable[[FamilyCondition, int], SyntheticSession]


def family_names() -> tuple[str, ...]:
    """The names ``emg validate --family`` accepts (besides ``all``)."""
    return tuple(_registry())


def simulate_family(name: str, condition: FamilyCondition, seed: int) -> SyntheticSession:
    """Simulate one set of family ``name`` under ``condition``.

    Raises
    ------
    KeyError
        For an unknown family name.
    """
    return _registry()[name](condition, seed)


def first_onset_range(name: str, low: float, high: float) -> tuple[float, float]:
    """Where to ask family ``name`` for its first onset so that it falls within ``low .. high``.

    The ``own`` family's generator jitters the start of every rep, the first included, by
    up to :data:`~emg.sources.own_family.PERIOD_JITTER_S` either way, so it is asked for a
    range narrowed by that much; the other families put the first onset where they are asked.

    Parameters
    ----------
    name
        Family name.
    low, high
        Where the first onset must fall, seconds after the stream starts.

    Returns
    -------
    tuple of float
        The range to draw ``FamilyCondition.first_onset_s`` from.

    Examples
    --------
    >>> first_onset_range("own", 0.5, 1.5)
    (0.7, 1.3)
    >>> first_onset_range("spectral", 0.5, 1.5)
    (0.5, 1.5)
    """
    if name != "own":
        return low, high
    from emg.sources.own_family import PERIOD_JITTER_S

    return round(low + PERIOD_JITTER_S, 9), round(high - PERIOD_JITTER_S, 9)


def _registry() -> dict[str, Family]:
    # imported on first use: each family loads only when it is asked for
    from emg.sources.motor_unit_family import simulate_motor_unit_set
    from emg.sources.own_family import simulate_own_set
    from emg.sources.spectral_family import simulate_spectral_set

    return {
        "own": simulate_own_set,
        "spectral": simulate_spectral_set,
        "motor-unit": simulate_motor_unit_set,
    }
