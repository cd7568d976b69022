"""The ``own`` simulator family: the project's generator (:mod:`emg.sources.synthetic`) under a
:class:`~emg.sources.families.FamilyCondition`.

An adapter, as close as :class:`~emg.sources.synthetic.SynthConfig` allows; the generator's
numbers are not changed. ``SynthConfig`` has one SNR and one ramp for both muscles, but neither
changes any of its random draws (the SNR only scales each muscle's MVC amplitude, the ramp only
the activation profile), so the same seed gives the same set under any of them. The adapter
therefore generates the set twice with the same seed, once with the glute's SNR and ramp and
once with the hamstring's, and takes each muscle's channel from its own run: each muscle gets
exactly its SNR (the generator's definition: signal RMS at the mean rep level over noise RMS)
and its ramp.

What it cannot honour:

- **ramp ranges**: every rep of a muscle ramps over the middle of the muscle's range (the
  generator has one ramp, not one per rep);
- **onset shapes**: the generator's ramps are linear; ``condition.shapes`` is ignored;
- **coloured noise** and **baseline drift**: the generator's noise is white and it has no
  drift (its motion artefacts are a different thing and stay off);
- **first onset**: the first rep starts within +-0.2 s of ``first_onset_s`` (the generator
  jitters every rep, the first included), and ``rep_period_s`` is the mean period;
- **crosstalk** with unequal SNRs or ramps: the crosstalk a sensor picks up is the other
  muscle as generated in that sensor's run (its scale and ramp, not the other run's).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from emg.recording import Recording
from emg.sources.family_conditions import MUSCLES, FamilyCondition
from emg.sources.synthetic import SynthConfig, SyntheticSession, generate_session

#: the generator's rep-to-rep jitter of the rep start, s (+-)
PERIOD_JITTER_S = 0.2


def own_config(condition: FamilyCondition, seed: int, muscle: str) -> SynthConfig:
    """The generator's settings for the run that gives ``muscle``'s channel.

    Parameters
    ----------
    condition
        What to simulate.
    seed
        Seed of the generator (the same for both muscles' runs).
    muscle
        ``glute`` or ``hamstring``: whose SNR and ramp the run takes.

    Returns
    -------
    SynthConfig
        Settings of the run.
    """
    return SynthConfig(
        reps=condition.reps,
        lead_ms=condition.lead_ms,
        snr_db=condition.snr_db(muscle),
        fs=condition.fs,
        seed=seed,
        rest_s=condition.first_onset_s - PERIOD_JITTER_S,
        rep_period_s=condition.rep_period_s,
        period_jitter_s=PERIOD_JITTER_S,
        active_s=condition.active_s,
        ramp_s=float(np.mean(condition.ramp_s(muscle))),
        mains_uv=condition.mains_uv,
        crosstalk=condition.crosstalk,
    )


def simulate_own_set(condition: FamilyCondition, seed: int) -> SyntheticSession:
    """Simulate one set of the ``own`` family.

    Parameters
    ----------
    condition
        What to simulate (see the module's notes on what the generator cannot honour).
    seed
        Seed of the generator.

    Returns
    -------
    SyntheticSession
        Float32 microvolt recording (channels ``glute``, ``hamstring``) and its truth (the
        generator's, with each muscle's SNR and MVC amplitude from its own run).

    Raises
    ------
    RuntimeError
        If the two runs disagree on the reps (the generator's draws came to depend on the
        SNR or the ramp, which this adapter relies on them not to).
    """
    runs = {m: generate_session(own_config(condition, seed, m)) for m in MUSCLES}
    first = runs[MUSCLES[0]]
    if any(run.truth["reps"] != first.truth["reps"] for run in runs.values()):
        raise RuntimeError("the generator's reps depend on the SNR or ramp; cannot combine runs")
    columns = [_column(runs[m].recording, m) for m in MUSCLES]
    recording = dataclasses.replace(
        first.recording,
        data=np.stack(columns, axis=1),
        channels=tuple(first.recording.channels[_index(first.recording, m)] for m in MUSCLES),
        lost=np.zeros((len(columns[0]), len(columns)), dtype=bool),
        source=f"own family (seed={seed})",
    )
    truth: dict[str, Any] = {
        **first.truth,
        "generator": "emg.sources.own_family",
        "config": {
            **condition.as_dict(),
            "seed": seed,
            "synth_config": {m: runs[m].truth["config"] for m in MUSCLES},
        },
        "snr_db": {m: condition.snr_db(m) for m in MUSCLES},
        "mvc_uv": {m: runs[m].truth["mvc_uv"][m] for m in MUSCLES},
    }
    return SyntheticSession(recording, truth)


def _index(recording: Recording, muscle: str) -> int:
    return [c.muscle for c in recording.channels].index(muscle)


def _column(recording: Recording, muscle: str) -> npt.NDArray[np.float32]:
    return recording.data[:, _index(recording, muscle)]
