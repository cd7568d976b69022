"""What the synthetic generator simulates: the type and range of every setting of a
:class:`~emg.sources.synthetic.SynthConfig`, and how they must fit together.

A value outside these would not give a wrong-looking set but a wrong truth (a rest before the
first rep below zero puts true onsets before the recording's start, a negative end rest puts
them past its end, a level of zero or below gives a ratio of no meaning) or an error deep in
NumPy. Every refusal is a ``ValueError`` whose message starts with the setting's name and says
what is allowed; ``emg synth``, ``emg record --source synthetic``, :func:`emg.simulate` and the
validation grids all check through here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

from emg.real_number import is_bool, is_real_number

#: most reps and highest sample rate a synthetic set may have (about 4 h at 20 kHz: bounded
#: memory)
MAX_REPS = 5000
MAX_FS = 20000.0
#: longest set (rest, reps and end rest), s: 5 h, a little more than the most reps at the
#: default rep period take
MAX_DURATION_S = 5 * 3600.0
#: the range of the generator's other numeric settings (both ends included)
RANGES = {
    "snr_db": (-100.0, 100.0),
    "ramp_s": (0.0, 1.0),
    "noise_uv": (0.01, 1e4),
    "mains_uv": (0.0, 1e4),
    "artefact_uv": (0.0, 1e4),
    "crosstalk": (0.0, 0.9),
    "rest_s": (0.0, 600.0),
    "end_rest_s": (0.0, 600.0),
    "rep_period_s": (0.0, 600.0),
    "period_jitter_s": (0.0, 10.0),
    "active_s": (0.0, 60.0),
    "decay_s": (0.001, 1.0),
    "glute_level": (0.01, 1.0),
    "hamstring_level": (0.01, 1.0),
    "cramp_level": (0.01, 1.0),
    "cramp_rise_s": (0.001, 60.0),
    "cramp_hold_s": (0.0, 60.0),
    "cramp_decay_s": (0.001, 60.0),
    "packet_s": (0.001, 10.0),
}
#: settings that are fractions, from 0 up to (not including) the bound
FRACTIONS = {"level_jitter": 1.0, "loss": 1.0, "fatigue": 0.8}
#: mains frequencies simulated, Hz
MAINS_HZ = (50.0, 60.0)
#: whole-number settings
WHOLE = ("reps", "seed", "cramp_rep")
#: the hamstrings' burst ends up to this much earlier than the glutes' (s, the generator's)
OFFSET_SPREAD_S = 0.05


def check_values(values: Mapping[str, Any]) -> None:
    """Refuse a setting of the wrong type or outside its own range.

    Parameters
    ----------
    values
        The settings by name (``vars(config)``).

    Raises
    ------
    ValueError
        Naming the first setting at fault and what it must be.
    """
    for name in WHOLE:
        value = values[name]
        if not isinstance(value, Integral) or isinstance(value, bool):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not is_bool(values["sides"]):  # NumPy's bools too
        raise ValueError(f"sides must be True or False, got {values['sides']!r}")
    reals = ["fs", *RANGES, *FRACTIONS, "mains_hz"]
    for name in reals:
        if not is_real_number(values[name]):
            raise ValueError(f"{name} must be a number, got {values[name]!r}")
    if not 1 <= values["reps"] <= MAX_REPS:
        raise ValueError(f"reps must be from 1 to {MAX_REPS}, got {values['reps']}")
    if values["seed"] < 0:
        raise ValueError(f"seed must be a whole number from 0 up, got {values['seed']}")
    if not 200 <= values["fs"] <= MAX_FS:
        raise ValueError(f"fs must be from 200 to {MAX_FS:g} Hz, got {values['fs']:g}")
    for name, (low, high) in RANGES.items():
        if not low <= values[name] <= high:  # also NaN
            span = f"from {low:g} to {high:g}{_unit(name)}"
            raise ValueError(f"{name} must be {span}, got {values[name]:g}")
    for name, high in FRACTIONS.items():
        if not 0 <= values[name] < high:
            raise ValueError(f"{name} must be in [0, {high:g}), got {values[name]:g}")
    if values["mains_hz"] not in MAINS_HZ:
        raise ValueError(f"mains_hz must be 50 or 60 (Hz), got {values['mains_hz']:g}")
    leads = values["lead_ms"]
    listed = isinstance(leads, Sequence) and not isinstance(leads, str)
    if not is_real_number(leads) and not (listed and all(map(is_real_number, leads))):
        raise ValueError(f"lead_ms must be a number or one number per rep, got {leads!r}")


def check_timing(values: Mapping[str, Any], leads_ms: Sequence[float]) -> None:
    """Refuse settings that do not fit together: reps that overlap, a burst too short for
    its ramp and decay, a set too long, a cramp at a rep the set does not have.

    Parameters
    ----------
    values
        The settings by name, each in its own range (:func:`check_values`).
    leads_ms
        The lead of every rep (ms).

    Raises
    ------
    ValueError
        Naming the setting at fault (its name first) and what it must be.
    """
    if not all(math.isfinite(v) for v in leads_ms):
        raise ValueError("lead_ms must be finite")
    active, ramp, decay = values["active_s"], values["ramp_s"], values["decay_s"]
    longest = max(abs(v) for v in leads_ms) / 1000
    room = values["rep_period_s"] - (active + decay + 2 * values["period_jitter_s"] + 0.3)
    if longest > room:
        raise ValueError(
            f"lead_ms {longest * 1000:g} ms is longer than a rep period of "
            f"{values['rep_period_s']:g} s leaves room for (at most +-{max(room, 0) * 1000:.0f} "
            "ms after the rep's active time and decay): reps would overlap"
        )
    # the hamstrings' burst lasts active_s less half their lag, less up to OFFSET_SPREAD_S
    needed = ramp + decay + OFFSET_SPREAD_S + max(0.0, max(leads_ms) / 2000)
    if active < needed:
        raise ValueError(
            f"active_s must be at least {needed:.3g} s here (ramp_s + decay_s + "
            f"{OFFSET_SPREAD_S * 1000:g} ms + half the largest lead_ms), so that each "
            f"muscle's burst has its ramp and decay; got {active:g}"
        )
    duration = values["rest_s"] + values["reps"] * values["rep_period_s"] + values["end_rest_s"]
    if duration > MAX_DURATION_S:
        raise ValueError(
            f"rep_period_s x reps + rest_s + end_rest_s must be at most {MAX_DURATION_S:g} s "
            f"({MAX_DURATION_S / 3600:g} h), got {duration:g} s"
        )
    if not 0 <= values["cramp_rep"] <= values["reps"]:
        raise ValueError(f"cramp_rep must be 0 (none) or a rep 1..{values['reps']}")


def _unit(name: str) -> str:
    """The unit of a setting, for messages: seconds, or a fraction of the MVC."""
    if name.endswith("_s"):
        return " s"
    return " (a fraction of the MVC)" if name.endswith("_level") else ""
