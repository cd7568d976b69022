"""The validation runs, from their settings to their summaries: one place for the command and the
library.

``emg validate`` and :func:`emg.validate` build their grid here (checking every setting before
a set is generated), run it through the analysis and summarise it; they differ only in how they
show the result (tables of text, DataFrames).
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral
from typing import Any

from emg.analysis.pipeline import AnalysisConfig
from emg.dsp.chain_limits import SettingError
from emg.real_number import is_real_number
from emg.sources.families import family_names
from emg.sources.family_conditions import MUSCLES
from emg.sources.own_family import own_config
from emg.sources.synthetic import MAX_REPS
from emg.validation.families import (
    FamilyGrid,
    family_cases,
    run_family_validation,
    summarize_families,
)
from emg.validation.grid import PeerDetector, ValidationGrid, run_validation, summarize_validation
from emg.validation.targets import hamstring_first_calls, judge_targets

#: ``progress(done, total)`` after each set.
Progress = Callable[[int, int], None]

#: Longest |lead| the family conditions leave room for (reps 3 s apart, 1.2 s active), ms.
MAX_FAMILY_LEAD_MS = 1000.0


def validation_grid(
    *,
    snr_db: Sequence[float] | float | None = None,
    leads_ms: Sequence[float] | float | None = None,
    seeds: int | None = None,
    reps: int | None = None,
    fs: Sequence[float] | float | None = None,
    cramp_rep: int | None = None,
    loss: float | None = None,
) -> ValidationGrid:
    """The project's grid of synthetic sets (None: the default of that setting).

    Parameters
    ----------
    snr_db, leads_ms
        SNRs (dB) and leads (hamstring minus glute onset, ms), a list or one number; one
        set per combination.
    seeds
        How many seeds per cell.
    reps, fs
        Reps per set and sample rate (Hz; one, alone or in a list).
    cramp_rep
        Rep at which the cramp sets' episode starts (0: no cramp sets; the default, rep 5, is
        the last rep of a shorter set).
    loss
        Probability of losing each 20 ms packet.

    Returns
    -------
    ValidationGrid
        Every set of it accepted by the generator.

    Raises
    ------
    SettingError
        Naming the setting at fault (``seeds``, ``fs``, ``reps`` ...): a value of the wrong
        kind (text for a number, a fraction for a count), out of range (a cramp rep past the
        last rep), or an empty grid.
    """
    check_seeds(seeds)
    snrs, leads, rates = numbers("snr_db", snr_db), numbers("leads_ms", leads_ms), numbers("fs", fs)
    if rates is not None and len(rates) != 1:
        raise SettingError("fs", "the project's grid takes one sample rate")
    default = ValidationGrid()
    grid = ValidationGrid(
        snr_db=default.snr_db if snrs is None else snrs,
        leads_ms=default.leads_ms if leads is None else leads,
        seeds=default.seeds if seeds is None else tuple(range(seeds)),
        reps=default.reps if reps is None else whole("reps", reps),
        fs=default.fs if rates is None else rates[0],
        cramp_rep=default.cramp_rep if cramp_rep is None else whole("cramp_rep", cramp_rep),
        base=default.base if loss is None else dataclasses.replace(default.base, loss=loss),
    )
    for setting, values in (("snr_db", grid.snr_db), ("leads_ms", grid.leads_ms)):
        if not values:
            raise SettingError(setting, "the grid is empty: give at least one value")
    if not grid.seeds:
        raise SettingError("seeds", "give at least one seed")
    first = dataclasses.replace(
        grid.base, reps=grid.reps, fs=grid.fs, cramp_rep=min(grid.cramp_rep, grid.reps)
    )
    try:
        first.validate()
        # each SNR and lead checked before a set's seed is made from it
        for snr in grid.snr_db:
            dataclasses.replace(first, snr_db=snr).validate()
    except ValueError as error:
        # the generator's messages start with the setting they refuse
        setting, _, reason = str(error).partition(" ")
        raise SettingError(setting, reason) from None
    if grid.cramp_rep > grid.reps:
        if cramp_rep is not None:
            raise SettingError(
                "cramp_rep",
                f"rep {grid.cramp_rep} of a set of {grid.reps} reps: at most the last rep "
                f"(0: no cramp sets)",
            )
        grid = dataclasses.replace(grid, cramp_rep=grid.reps)  # the default, in a short set
    for lead in grid.leads_ms:
        try:
            dataclasses.replace(first, lead_ms=lead).validate()
        except ValueError as error:
            raise SettingError("leads_ms", f"{lead:g} ms cannot be simulated ({error})") from None
    try:
        for _, config in grid.sets():
            config.validate()
    except ValueError as error:
        setting, _, reason = str(error).partition(" ")
        raise SettingError(setting, reason) from None
    return grid


#: Most seeds per cell a validation run takes (each is a whole set per cell: 1,000 already
#: takes hours; more only exhausts the memory).
MAX_SEEDS = 1000


def check_seeds(seeds: int | None) -> None:
    """Refuse a number of seeds per cell a run cannot take (None: the default).

    Raises
    ------
    SettingError
        ``seeds``, not a whole number or beyond :data:`MAX_SEEDS`.
    """
    if seeds is not None and whole("seeds", seeds) > MAX_SEEDS:
        raise SettingError("seeds", f"must be at most {MAX_SEEDS} per cell, got {seeds}")


def whole(setting: str, value: Any) -> int:
    """``value`` as a whole number (Python's or NumPy's).

    Raises
    ------
    SettingError
        Naming ``setting``, for anything else (text, a fraction, a bool).
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise SettingError(setting, f"must be a whole number, got {reprlib.repr(value)}")
    return int(value)


def numbers(setting: str, values: Iterable[float] | float | None) -> tuple[float, ...] | None:
    """The numbers given for ``setting``: a list of them, or one alone (as the command's
    ``--snr-db 20`` is ``(20,)``); None when not given.

    Raises
    ------
    SettingError
        Naming ``setting``, for text (which would be read as its characters), anything else
        that is not numbers, or a number that is not finite.
    """
    if values is None:
        return None
    if is_real_number(values):
        values = [values]  # type: ignore[list-item]
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise SettingError(
            setting, f"must be a list of numbers or one number, got {reprlib.repr(values)}"
        )
    items = list(values)
    if not all(is_real_number(v) for v in items):
        raise SettingError(setting, f"must be numbers, got {reprlib.repr(items)}")
    given = tuple(float(v) for v in items)
    if not all(math.isfinite(v) for v in given):
        raise SettingError(setting, f"must be finite numbers, got {reprlib.repr(items)}")
    return given


def family_grid(
    family: str,
    *,
    leads_ms: Sequence[float] | float | None = None,
    fs: Sequence[float] | float | None = None,
    seeds: int | None = None,
    reps: int | None = None,
    snr_db: Sequence[float] | float | None = None,
) -> FamilyGrid:
    """The sets of one simulator family, or of ``all`` (None: the default of that setting).

    Parameters
    ----------
    family
        A family name (:func:`emg.sources.families.family_names`) or ``all``.
    leads_ms, fs, seeds, reps
        Leads (ms) and sample rates (Hz), each a list or one number; how many seeds, reps
        per set.
    snr_db
        Refused when given (None only): each family's conditions set their own SNRs.

    Returns
    -------
    FamilyGrid

    Raises
    ------
    SettingError
        Naming the setting at fault (``family``, ``seeds``, ``fs`` ...): a value of the wrong
        kind, out of range, one that does not apply (``snr_db``), or a lead the ``own``
        family's generator cannot simulate.
    """
    known = family_names()
    if family != "all" and family not in known:
        raise SettingError("family", f"unknown family '{family}'; one of {', '.join(known)} or all")
    if snr_db is not None:
        raise SettingError(
            "snr_db", f"does not apply to a family validation: {FAMILY_SETS_OWN['snr_db']}"
        )
    names = known if family == "all" else (family,)
    check_seeds(seeds)
    default = FamilyGrid(families=names)
    rates, leads = numbers("fs", fs), numbers("leads_ms", leads_ms)
    grid = FamilyGrid(
        families=names,
        leads_ms=default.leads_ms if leads is None else leads,
        fs=default.fs if rates is None else rates,
        seeds=default.seeds if seeds is None else tuple(range(seeds)),
        reps=default.reps if reps is None else whole("reps", reps),
    )
    problems = [
        ("seeds", not grid.seeds, "give at least one seed"),
        ("reps", not 1 <= grid.reps <= MAX_REPS, f"must be from 1 to {MAX_REPS} per set"),
        ("fs", not grid.fs or any(not 200 <= v <= 20000 for v in grid.fs), "must be 200-20000 Hz"),
        ("leads_ms", not grid.leads_ms, "give at least one lead"),
        (
            "leads_ms",
            any(abs(v) > MAX_FAMILY_LEAD_MS for v in grid.leads_ms),
            f"leads must be within +-{MAX_FAMILY_LEAD_MS:g} ms",
        ),
    ]
    for setting, bad, reason in problems:
        if bad:
            raise SettingError(setting, reason)
    if "own" in names:
        _check_own_sets(grid)
    return grid


#: What a family validation does without, by setting: why (its conditions are its own).
FAMILY_SETS_OWN = {
    "snr_db": "each family's conditions set their own SNRs",
    "loss": "its sets are simulated without packet loss",
    "cramp_rep": "its sets have no cramp episode",
}


def _check_own_sets(grid: FamilyGrid) -> None:
    """Refuse a lead the ``own`` family's generator cannot simulate in some condition (its
    reps would overlap), before any set is made, through the generator's own checks."""
    for case in family_cases(grid.reps):
        for fs in grid.fs:
            for lead in grid.leads_ms:
                condition = dataclasses.replace(case.condition, fs=fs, lead_ms=lead)
                try:
                    for muscle in MUSCLES:
                        own_config(condition, 0, muscle).validate()
                except ValueError as error:
                    raise SettingError(
                        "leads_ms", f"{lead:g} ms cannot be simulated by the own family ({error})"
                    ) from None


def validate_grid(
    grid: ValidationGrid,
    analysis: AnalysisConfig,
    peers: dict[str, PeerDetector] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the project's grid and summarise it, with the grid's description under ``grid``.

    Parameters
    ----------
    grid
        From :func:`validation_grid`.
    analysis
        How every set is analysed (the settings as resolved for ``emg analyze``).
    peers
        Other groups' onset detectors to run beside ours (``emg validate --compare``).
    progress
        Called after each set.

    Returns
    -------
    dict
        :func:`~emg.validation.grid.summarize_validation`'s tables and ``grid``.
    """
    exercise = analysis.exercise
    outcomes = run_validation(grid, analysis, peers, progress)
    summary = summarize_validation(outcomes, exercise.margin_ms, exercise.flagged_order)
    summary["grid"] = {
        "snr_db": list(grid.snr_db),
        "leads_ms": list(grid.leads_ms),
        "seeds": len(grid.seeds),
        "reps": grid.reps,
        "fs": grid.fs,
        "cramp_rep": grid.cramp_rep,
        "loss": grid.base.loss,
        "exercise": exercise.name,
        "margin_ms": exercise.margin_ms,
        "detector": analysis.chain.detector,
    }
    return summary


def validate_families(
    grid: FamilyGrid,
    analysis: AnalysisConfig,
    mains: str = "auto",
    refinements: Sequence[str] = (),
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run the family sets and summarise them, each refinement over the same sets.

    Parameters
    ----------
    grid
        From :func:`family_grid`.
    analysis
        How every set is analysed.
    mains
        Mains setting of the analysis (``auto``, ``off``, ``50``, ``60``).
    refinements
        Onset refinements to put side by side (``emg validate --family --compare``); empty:
        only ``analysis``'s.
    progress
        Called after each set.

    Returns
    -------
    list of dict
        One summary per refinement, ``analysis``'s first: the tables of
        :func:`~emg.validation.families.summarize_families`, ``targets`` (each target on its
        worst family and condition), ``hamstring_first_calls`` (the missed and false
        hamstring-first calls over every condition) and ``grid``.
    """
    chain, exercise = analysis.chain, analysis.exercise
    methods = [chain.refinement, *(m for m in refinements if m != chain.refinement)]
    summaries = []
    for method in methods:
        settings = dataclasses.replace(analysis, chain=chain.with_refinement(method))
        outcomes = run_family_validation(grid, settings, mains, progress)
        summary = summarize_families(outcomes, exercise.margin_ms)
        summary["targets"] = [dataclasses.asdict(t) for t in judge_targets(summary)]
        summary["hamstring_first_calls"] = dataclasses.asdict(hamstring_first_calls(summary))
        summary["grid"] = {
            "families": list(grid.families),
            "leads_ms": list(grid.leads_ms),
            "fs": list(grid.fs),
            "seeds": len(grid.seeds),
            "reps": grid.reps,
            "sets": len(outcomes),
            "exercise": exercise.name,
            "margin_ms": exercise.margin_ms,
            "detector": settings.chain.detector,
            "refinement": settings.chain.refinement,
            "lead": settings.reps.lead,
            "mains": mains,
        }
        summaries.append(summary)
    return summaries
