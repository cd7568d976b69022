"""Validation on several simulator families, and scoring of any recording against its truth.

Each family (:mod:`emg.sources.families`) simulates a grid of conditions — equal and unequal
SNR, fast and slow recruitment in either muscle, interference, a first burst soon after the
stream starts — at several leads, sample rates and seeds. Every set is analysed exactly as
``emg analyze`` analyses a file (the defaults, mains notch picked from the recording)
and scored against its truth with the pairing of :mod:`emg.validation.grid`: onset error,
lead error, order accuracy, simultaneous reps called hamstring-first, false flags, and the first
burst of the stream apart from the later ones. The same scoring serves a lab's own annotated
recording (:func:`parse_truth`, :func:`score_result`). Only numbers come out; printing is the
command's job.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emg.analysis.exercises import ExerciseConfig
from emg.analysis.offline import OfflineResult, analyze_recording, resolve_mains
from emg.analysis.pipeline import AnalysisConfig
from emg.errors import EmgInputError
from emg.muscles import MUSCLE_GROUPS
from emg.order import classify_order
from emg.real_number import real_number
from emg.sources.families import first_onset_range, simulate_family
from emg.sources.family_conditions import MUSCLES, FamilyCondition
from emg.validation.grid import MATCH_S, matching_rep, pair_onsets

#: recruitment ramps: fast and slow (s, shortest and longest)
FAST_RAMP_S = (0.02, 0.06)
SLOW_RAMP_S = (0.15, 0.25)
#: |lead| from which the order must be right, and up to which no rep may be called
#: hamstring-first (ms)
CLEAR_LEAD_MS = 80.0
NEAR_ZERO_LEAD_MS = 20.0
#: an onset placed this much (ms) before the true one is counted apart: the detector took noise
#: (or crosstalk) before the muscle switched on for its start, an error the medians hide
EARLY_MS = 20.0
#: slack on those limits for true leads rounded to samples (one sample at 1 kHz), ms
LEAD_SLACK_MS = 1.0
#: where the first burst of a stream starts in the ``first burst`` conditions (s)
FIRST_ONSET_S = (0.5, 1.5)
#: interference of the ``interference`` conditions
INTERFERENCE = {"noise": "coloured", "drift_uv": 30.0, "mains_uv": 5.0, "crosstalk": 0.05}


@dataclass(frozen=True)
class FamilyCase:
    """One condition of the grid, without its lead and sample rate.

    Attributes
    ----------
    group
        ``equal SNR``, ``unequal SNR``, ``recruitment``, ``interference`` or ``first burst``.
    label
        What sets it apart within its group.
    condition
        The condition (its ``lead_ms`` and ``fs`` are set per set).
    """

    group: str
    label: str
    condition: FamilyCondition


def family_cases(reps: int = 8) -> list[FamilyCase]:
    """The conditions of the grid, ``reps`` reps per set.

    Returns
    -------
    list of FamilyCase
        Equal SNR (20, 10, 5 dB), unequal SNR (5/20 dB both ways), slow recruitment in one
        muscle and fast in the other (both ways, at 20 and 5 dB), interference (coloured noise,
        drift, mains, crosstalk at 20 and 10 dB) and a first burst 0.5-1.5 s into the stream
        (20 and 10 dB; its start is drawn per set). Ramps are fast unless said otherwise.
    """
    base = FamilyCondition(reps=reps, glute_ramp_s=FAST_RAMP_S, hamstring_ramp_s=FAST_RAMP_S)

    def case(group: str, label: str, **changes: Any) -> FamilyCase:
        return FamilyCase(group, label, dataclasses.replace(base, **changes))

    def snr(db: float) -> dict[str, float]:
        return {"glute_snr_db": db, "hamstring_snr_db": db}

    cases = [case("equal SNR", f"{db:g} dB", **snr(db)) for db in (20.0, 10.0, 5.0)]
    cases += [
        case("unequal SNR", "glute 5 / hamstring 20 dB", glute_snr_db=5.0, hamstring_snr_db=20.0),
        case("unequal SNR", "glute 20 / hamstring 5 dB", glute_snr_db=20.0, hamstring_snr_db=5.0),
    ]
    for db in (20.0, 5.0):
        cases += [
            case(
                "recruitment", f"hamstring slow, {db:g} dB", hamstring_ramp_s=SLOW_RAMP_S, **snr(db)
            ),
            case("recruitment", f"glute slow, {db:g} dB", glute_ramp_s=SLOW_RAMP_S, **snr(db)),
        ]
    cases += [case("interference", f"{db:g} dB", **INTERFERENCE, **snr(db)) for db in (20.0, 10.0)]
    cases += [case("first burst", f"{db:g} dB", **snr(db)) for db in (20.0, 10.0)]
    return cases


@dataclass(frozen=True)
class FamilySet:
    """One simulated set of the grid.

    Attributes
    ----------
    family
        Simulator family.
    case
        Its condition.
    condition
        The condition with lead, sample rate (and first onset) filled in.
    seed
        Seed of the set (one per grid cell, reproducible).
    """

    family: str
    case: FamilyCase
    condition: FamilyCondition
    seed: int


@dataclass(frozen=True)
class FamilyGrid:
    """What to simulate.

    Attributes
    ----------
    families
        Simulator families.
    leads_ms, fs, seeds
        One set per case, lead, sample rate and seed.
    reps
        Reps per set.
    """

    families: tuple[str, ...]
    leads_ms: tuple[float, ...] = (-150.0, -80.0, -20.0, 0.0, 20.0, 80.0, 150.0)
    fs: tuple[float, ...] = (1000.0, 2000.0)
    seeds: tuple[int, ...] = (0, 1)
    reps: int = 8

    def sets(self) -> Iterator[FamilySet]:
        """Every set, family by family, case by case."""
        for family in self.families:
            for number, case in enumerate(family_cases(self.reps)):
                for fs in self.fs:
                    for lead in self.leads_ms:
                        for seed in self.seeds:
                            yield self._set(family, number, case, fs, lead, seed)

    def _set(
        self, family: str, number: int, case: FamilyCase, fs: float, lead: float, seed: int
    ) -> FamilySet:
        # one seed per cell: cells independent, reproducible, the same across families
        sequence = np.random.SeedSequence([seed, number, round(fs), round(lead) + 10_000])
        cell_seed = int(sequence.generate_state(1)[0])
        changes: dict[str, Any] = {"fs": fs, "lead_ms": lead}
        if case.group == "first burst":
            changes["first_onset_s"] = float(
                np.random.default_rng(cell_seed).uniform(*first_onset_range(family, *FIRST_ONSET_S))
            )
        return FamilySet(family, case, dataclasses.replace(case.condition, **changes), cell_seed)


@dataclass(frozen=True)
class RepScore:
    """One true rep against the analysis.

    Attributes
    ----------
    true_lead_ms
        Hamstring minus glute onset, true.
    lead_ms, order
        What the analysis gave for the matching rep (None: no rep, or no lead).
    side
        The side it was scored on, in a recording of both sides (each side is scored
        against the truth); None in a recording of one.
    number
        The true rep's number, as its onset errors are numbered (None: scored without one).
    """

    true_lead_ms: float
    lead_ms: float | None
    order: str | None
    side: str | None = None
    number: int | None = None


@dataclass
class SetScore:
    """One recording against its truth.

    Attributes
    ----------
    onset_errors
        ``(muscle, rep number, detected minus true onset in ms or None when missed, the
        channel's side)`` per true onset of each glute and hamstring channel.
    spurious
        Detected onsets with no true onset within the matching window.
    reps
        Per true rep, its lead and the analysis's.
    flagged
        The exercise's flag (the unexpected order) was raised.
    """

    onset_errors: list[tuple[str, int, float | None, str | None]] = field(default_factory=list)
    spurious: int = 0
    reps: list[RepScore] = field(default_factory=list)
    flagged: bool = False


@dataclass
class FamilyOutcome:
    """One set of the grid and its score."""

    set: FamilySet
    score: SetScore


def score_result(
    result: OfflineResult, true_reps: list[dict[str, Any]], exercise: ExerciseConfig
) -> SetScore:
    """Score an analysis against the true reps.

    Parameters
    ----------
    result
        The analysis of the recording.
    true_reps
        Per rep ``glute_onset_s`` and ``hamstring_onset_s`` (and ``index``), as ``emg synth``
        writes them (see :func:`parse_truth`).
    exercise
        Whose flag counts as raised.

    Returns
    -------
    SetScore
        Onset errors, spurious onsets, leads and orders per rep, and whether the flag rose.
    """
    fs = result.sample_rate
    score = SetScore()
    numbers = [int(rep.get("index", k + 1)) for k, rep in enumerate(true_reps)]
    for index, channel in enumerate(result.channels):
        group = MUSCLE_GROUPS.get(channel.muscle)
        if group not in MUSCLES:
            continue
        detected = np.array([b.onset / fs for b in result.bursts_of(index)])
        truth = np.array([rep[f"{group}_onset_s"] for rep in true_reps])
        errors, spurious = pair_onsets(detected, truth)
        score.onset_errors.extend(
            (group, k, e, channel.side) for k, e in zip(numbers, errors, strict=True)
        )
        score.spurious += spurious
    # a recording of both sides: the true reps are each side's (both sides move together)
    named = sorted({c.side for c in result.channels if c.side})
    sides: list[str | None] = [*named] if named else [None]
    for number, true_rep in zip(numbers, true_reps, strict=True):
        true_lead = (true_rep["hamstring_onset_s"] - true_rep["glute_onset_s"]) * 1000
        for side in sides:
            rep = matching_rep([r for r in result.reps if r.side == side], true_rep, fs)
            lead, order = (rep.lead_ms, rep.order) if rep else (None, None)
            score.reps.append(RepScore(true_lead, lead, order, side, number))
    flagged = exercise.flagged_order
    score.flagged = any(f.raised and f.kind == flagged for f in result.flags)
    return score


def evaluate_family_set(fset: FamilySet, analysis: AnalysisConfig, mains: str = "auto") -> SetScore:
    """Simulate one set, analyse it as ``emg analyze`` would and score it.

    Parameters
    ----------
    fset
        The set.
    analysis
        Analysis settings (the chain's mains notch is decided on the set by ``mains``).
    mains
        ``auto`` (as ``emg analyze`` does for a file without recorded settings), ``off``,
        ``50`` or ``60``.
    """
    session = simulate_family(fset.family, fset.condition, fset.seed)
    chain = resolve_mains(session.recording, analysis.chain, mains)
    result = analyze_recording(
        session.recording, dataclasses.replace(analysis, chain=chain), keep_envelope=False
    )
    return score_result(result, session.truth["reps"], analysis.exercise)


def run_family_validation(
    grid: FamilyGrid,
    analysis: AnalysisConfig,
    mains: str = "auto",
    progress: Callable[[int, int], None] | None = None,
) -> list[FamilyOutcome]:
    """Evaluate every set of ``grid``; ``progress(done, total)`` after each."""
    sets = list(grid.sets())
    outcomes = []
    for done, fset in enumerate(sets, 1):
        outcomes.append(FamilyOutcome(fset, evaluate_family_set(fset, analysis, mains)))
        if progress is not None:
            progress(done, len(sets))
    return outcomes


def score_row(scores: list[SetScore], margin_ms: float) -> dict[str, Any]:
    """Onset, lead and order figures of some scored recordings, as plain data.

    Returns
    -------
    dict
        ``onset`` (median, signed median and p95 |error| ms, how many more than
        :data:`EARLY_MS` early, missed, spurious, onsets),
        ``lead`` (median signed error, p95 |error| ms, reps with a lead), ``order`` (accuracy
        over reps with |lead| >= ``CLEAR_LEAD_MS``, how many, and how many of them were called
        the other side), ``near_zero`` (reps with
        |lead| <= ``NEAR_ZERO_LEAD_MS`` and how many of them were called hamstring-first),
        ``sides`` (of those clear reps, the hamstring-first ones and how many were called
        hamstring-first; the glute-first ones and how many were called hamstring-first) and
        ``flags`` (false flags on glute-first recordings, and how many there were).
    """
    errors = [e for s in scores for _, _, e, _ in s.onset_errors]
    reps = [r for s in scores for r in s.reps]
    glute_first = [s for s in scores if s.reps and all(_is_glute_first(s, margin_ms))]
    return {
        "onset": onset_stats(errors, sum(s.spurious for s in scores)),
        "lead": _lead_stats(reps),
        "order": _order_stats(reps, margin_ms),
        "near_zero": {
            "reps": sum(abs(r.true_lead_ms) <= NEAR_ZERO_LEAD_MS + LEAD_SLACK_MS for r in reps),
            "hamstring_first": sum(
                abs(r.true_lead_ms) <= NEAR_ZERO_LEAD_MS + LEAD_SLACK_MS
                and r.order == "hamstring-first"
                for r in reps
            ),
        },
        "sides": _side_stats(reps),
        "flags": {
            "glute_first_sets": len(glute_first),
            "false_flags": sum(s.flagged for s in glute_first),
        },
    }


def _is_glute_first(score: SetScore, margin_ms: float) -> Iterator[bool]:
    return (classify_order(r.true_lead_ms, margin_ms) == "glute-first" for r in score.reps)


def onset_stats(errors: list[float | None], spurious: int = 0) -> dict[str, Any]:
    """Median, signed median and p95 of |error| (ms), how many were more than
    :data:`EARLY_MS` early, missed and spurious of some onsets."""
    found = np.array([e for e in errors if e is not None])
    return {
        "median": _round(np.median(np.abs(found))) if len(found) else None,
        "signed_median": _round(np.median(found)) if len(found) else None,
        "p95": _round(np.percentile(np.abs(found), 95)) if len(found) else None,
        "early": int(np.count_nonzero(found < -EARLY_MS)),
        "missed": len(errors) - len(found),
        "spurious": spurious,
        "onsets": len(errors),
    }


def _lead_stats(reps: list[RepScore]) -> dict[str, Any]:
    errors = np.array([r.lead_ms - r.true_lead_ms for r in reps if r.lead_ms is not None])
    return {
        "median": _round(np.median(errors)) if len(errors) else None,
        "p95": _round(np.percentile(np.abs(errors), 95)) if len(errors) else None,
        "reps": len(errors),
        "of": len(reps),
    }


def _clear(reps: list[RepScore]) -> list[RepScore]:
    """The reps whose true lead is clear (``CLEAR_LEAD_MS`` either way)."""
    return [r for r in reps if abs(r.true_lead_ms) >= CLEAR_LEAD_MS - LEAD_SLACK_MS]


def _order_stats(reps: list[RepScore], margin_ms: float) -> dict[str, Any]:
    clear = _clear(reps)
    right = sum(r.order == classify_order(r.true_lead_ms, margin_ms) for r in clear)
    opposite = {"glute-first": "hamstring-first", "hamstring-first": "glute-first"}
    wrong = sum(r.order == opposite.get(classify_order(r.true_lead_ms, margin_ms)) for r in clear)
    return {
        "accuracy": round(right / len(clear), 4) if clear else None,
        "reps": len(clear),
        "wrong_side": wrong,
    }


def _side_stats(reps: list[RepScore]) -> dict[str, Any]:
    """The clear reps of each side and how many were called hamstring-first (the side by the
    true lead's sign, whatever the exercise's margin)."""
    clear = _clear(reps)
    sides: dict[str, Any] = {}
    for side, sign in (("hamstring_first", -1.0), ("glute_first", 1.0)):
        of_side = [r for r in clear if sign * r.true_lead_ms > 0]
        sides[side] = {
            "reps": len(of_side),
            "called_hamstring_first": sum(r.order == "hamstring-first" for r in of_side),
        }
    return sides


def _round(value: Any) -> float:
    return round(float(value), 1)


def summarize_families(outcomes: list[FamilyOutcome], margin_ms: float) -> dict[str, Any]:
    """Tables of a family validation as plain data.

    Returns
    -------
    dict
        ``conditions``: one row per family and case (its group and label, and
        :func:`score_row`'s figures over every lead, sample rate and seed); ``first_burst``:
        per family, the onset errors of the first burst of each stream in the ``first burst``
        sets next to those of their later bursts.
    """
    rows: list[dict[str, Any]] = []
    keys: dict[tuple[str, str, str], list[SetScore]] = {}
    for outcome in outcomes:
        key = (outcome.set.family, outcome.set.case.group, outcome.set.case.label)
        keys.setdefault(key, []).append(outcome.score)
    for (family, group, label), scores in keys.items():
        rows.append(
            {"family": family, "group": group, "label": label, **score_row(scores, margin_ms)}
        )
    return {"conditions": rows, "first_burst": _first_burst(outcomes)}


def _first_burst(outcomes: list[FamilyOutcome]) -> list[dict[str, Any]]:
    rows = []
    families = dict.fromkeys(o.set.family for o in outcomes)
    for family in families:
        scores = [
            o.score
            for o in outcomes
            if o.set.family == family and o.set.case.group == "first burst"
        ]
        if not scores:
            continue
        errors = [(rep, e) for s in scores for _, rep, e, _ in s.onset_errors]
        rows.append(
            {
                "family": family,
                "first": onset_stats([e for rep, e in errors if rep == 1]),
                "later": onset_stats([e for rep, e in errors if rep != 1]),
            }
        )
    return rows


def truth_summary(
    result: OfflineResult, true_reps: list[dict[str, Any]], config: AnalysisConfig
) -> dict[str, Any]:
    """One recording's analysis scored against its true reps, as plain data.

    Parameters
    ----------
    result
        The analysis of the recording.
    true_reps
        Its true reps (see :func:`parse_truth`).
    config
        The settings it was analysed with.

    Returns
    -------
    dict
        ``true_reps`` and ``detected_reps`` (counts), :func:`score_row`'s figures, ``reps``
        (:func:`rep_rows`), ``margin_ms`` and ``detector``.
    """
    score = score_result(result, true_reps, config.exercise)
    return {
        "true_reps": len(true_reps),
        "detected_reps": len(result.reps),
        **score_row([score], config.exercise.margin_ms),
        "reps": rep_rows(score),
        "margin_ms": config.exercise.margin_ms,
        "detector": config.chain.detector,
    }


def rep_rows(score: SetScore) -> list[dict[str, Any]]:
    """Per true rep of one recording (per side, in a recording of both): its lead, the
    analysis's lead, the lead's error and the order, and each muscle's onset error (ms; None
    when missed; in a recording of one side, the first channel of the muscle)."""
    rows = []
    for rep in score.reps:
        errors = {m: _first_error(score, m, rep.number, rep.side) for m in MUSCLES}
        rows.append(
            {
                "rep": rep.number,
                **({"side": rep.side} if rep.side else {}),
                "true_lead_ms": _round(rep.true_lead_ms),
                "lead_ms": None if rep.lead_ms is None else _round(rep.lead_ms),
                "lead_error_ms": (
                    None if rep.lead_ms is None else _round(rep.lead_ms - rep.true_lead_ms)
                ),
                "order": rep.order,
                **{f"{m}_onset_error_ms": errors[m] for m in MUSCLES},
            }
        )
    return rows


def _first_error(
    score: SetScore, muscle: str, number: int | None, side: str | None
) -> float | None:
    for group, rep, error, on in score.onset_errors:
        if (group, rep) == (muscle, number) and (side is None or on == side):
            return None if error is None else _round(error)
    return None


def parse_truth(data: Any, source: str) -> list[dict[str, Any]]:
    """The true reps of a truth file in the format ``emg synth`` writes.

    Parameters
    ----------
    data
        The file's parsed JSON: an object with ``reps``, a list of objects each with
        ``glute_onset_s`` and ``hamstring_onset_s`` (seconds from the recording's start;
        ``index`` optional, the rest ignored).
    source
        The file, for messages.

    Returns
    -------
    list of dict
        Per rep ``index``, ``glute_onset_s``, ``hamstring_onset_s``.

    Raises
    ------
    EmgInputError
        Naming the file and the field at fault.
    """
    reps = data.get("reps") if isinstance(data, dict) else None
    if not isinstance(reps, list):
        raise EmgInputError("needs 'reps', a list of true reps", source=source, field="reps")
    if not reps:
        raise EmgInputError(
            "is an empty list: there is no true rep to score against", source=source, field="reps"
        )
    parsed = []
    for k, rep in enumerate(reps):
        if not isinstance(rep, dict):
            raise EmgInputError("each rep must be an object", source=source, field=f"reps[{k}]")
        parsed.append(
            {
                "index": k + 1,
                **{
                    f"{m}_onset_s": _seconds(rep, f"{m}_onset_s", f"reps[{k}]", source)
                    for m in MUSCLES
                },
            }
        )
    # two true reps that close would be matched to one detected rep: scored twice
    firsts = sorted((min(r["glute_onset_s"], r["hamstring_onset_s"]), r["index"]) for r in parsed)
    for (before, earlier), (start, later) in itertools.pairwise(firsts):
        if start - before < MATCH_S:
            raise EmgInputError(
                f"starts {start - before:.3f} s after reps[{earlier - 1}]: two true reps "
                f"closer than {MATCH_S:g} s would be matched to one detected rep (a rep "
                "listed twice?)",
                source=source,
                field=f"reps[{later - 1}]",
            )
    return parsed


def check_truth_within(true_reps: list[dict[str, Any]], duration_s: float, source: str) -> None:
    """Refuse true onsets past the end of the recording they describe (the wrong recording, or
    times in another unit): scored, they would only count as missed.

    Raises
    ------
    EmgInputError
        Naming the file and the first rep at fault.
    """
    for rep in true_reps:
        for muscle in MUSCLES:
            key = f"{muscle}_onset_s"
            if rep[key] > duration_s:
                raise EmgInputError(
                    f"{rep[key]:g} s is past the end of the recording ({duration_s:.1f} s)",
                    source=source,
                    field=f"reps[{rep['index'] - 1}].{key}",
                )


def _seconds(rep: dict[str, Any], key: str, where: str, source: str) -> float:
    value = rep.get(key)
    number = real_number(value)
    if number is not None and math.isfinite(number) and number >= 0:
        return number
    got = "it is missing" if key not in rep else f"got {value!r}"
    raise EmgInputError(
        f"must be a time in seconds (a number >= 0); {got}",
        source=source,
        field=f"{where}.{key}",
    )
