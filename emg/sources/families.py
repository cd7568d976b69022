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
