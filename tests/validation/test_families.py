from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from emg.analysis.offline import analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.errors import EmgInputError
from emg.sources.families import simulate_family
from emg.sources.family_conditions import FamilyCondition
from emg.validation.families import (
    FamilyGrid,
    FamilyOutcome,
    FamilySet,
    RepScore,
    SetScore,
    evaluate_family_set,
    family_cases,
    parse_truth,
    rep_rows,
    score_result,
    score_row,
    summarize_families,
)


def test_grid_covers_the_conditions_reproducibly() -> None:
    cases = family_cases(reps=4)
    groups = [c.group for c in cases]
    assert groups.count("equal SNR") == 3 and groups.count("unequal SNR") == 2
    assert groups.count("recruitment") == 4 and groups.count("first burst") == 2
    slow = [c for c in cases if c.label.startswith("hamstring slow")]
    assert {c.condition.hamstring_ramp_s for c in slow} == {(0.15, 0.25)}
    assert {c.condition.glute_ramp_s for c in slow} == {(0.02, 0.06)}
    grid = FamilyGrid(families=("own", "motor-unit"), leads_ms=(-80.0, 20.0), seeds=(0, 1))
    sets = list(grid.sets())
    assert len(sets) == 2 * len(family_cases()) * 2 * 2 * 2
    assert [s.seed for s in grid.sets()] == [s.seed for s in sets]
    own = [s.seed for s in sets if s.family == "own"]
    assert len(set(own)) == len(own)  # every cell its own seed
    assert own == [s.seed for s in sets if s.family == "motor-unit"]  # same cells per family
    firsts = [s.condition.first_onset_s for s in sets if s.case.group == "first burst"]
    assert all(0.5 <= t <= 1.5 for t in firsts) and len(set(firsts)) > 1
    assert {s.condition.fs for s in sets} == {1000.0, 2000.0}


@pytest.mark.parametrize("family", ["own", "spectral", "motor-unit"])
def test_first_burst_falls_where_the_condition_says(family: str) -> None:
    # the first true onset of every "first burst" set, whatever the family's own jitter
    grid = FamilyGrid(families=(family,), leads_ms=(-150.0, 80.0), fs=(1000.0,), seeds=(0, 1, 2))
    firsts = []
    for fset in grid.sets():
        if fset.case.group != "first burst":
            continue
        condition = dataclasses.replace(fset.condition, reps=1)
        rep = simulate_family(family, condition, fset.seed).truth["reps"][0]
        firsts.append(min(rep["glute_onset_s"], rep["hamstring_onset_s"]))
    assert len(firsts) == 12
    assert all(0.5 <= t <= 1.5 for t in firsts), firsts


def _scored(truth_reps: list[dict]) -> tuple[SetScore, SetScore]:
    condition = FamilyCondition(fs=1000.0, reps=3, lead_ms=-100.0, glute_snr_db=20.0)
    session = simulate_family("own", condition, 1)
    analysis = AnalysisConfig()
    result = analyze_recording(session.recording, analysis, keep_envelope=False)
    own = score_result(result, session.truth["reps"], analysis.exercise)
    return own, score_result(result, truth_reps(session.truth["reps"]), analysis.exercise)


def test_scoring_against_true_and_shifted_onsets() -> None:
    def shifted(reps: list[dict]) -> list[dict]:
        out = copy.deepcopy(reps)
        for rep in out:
            rep["hamstring_onset_s"] += 0.1
            rep["glute_onset_s"] += 0.1
        return out

    own, late = _scored(shifted)
    row, late_row = score_row([own], 50.0), score_row([late], 50.0)
    assert row["onset"]["missed"] == 0 and row["onset"]["spurious"] == 0
    assert row["onset"]["onsets"] == 6 and row["onset"]["median"] < 15
    assert row["order"] == {"accuracy": 1.0, "reps": 3, "wrong_side": 0}
    # truth 100 ms later: detections 100 ms early, leads unchanged
    assert late_row["onset"]["signed_median"] == pytest.approx(
        row["onset"]["signed_median"] - 100, abs=0.11
    )
    assert late_row["lead"]["median"] == pytest.approx(row["lead"]["median"], abs=0.11)
    rows = rep_rows(late)
    assert [r["rep"] for r in rows] == [1, 2, 3]
    assert all(r["glute_onset_error_ms"] < -80 for r in rows)
    # each of them more than 20 ms early, counted apart (none were before the shift)
    assert row["onset"]["early"] == 0 and late_row["onset"]["early"] == 6


def test_lead_error_follows_a_shifted_hamstring() -> None:
    def later_hamstring(reps: list[dict]) -> list[dict]:
        out = copy.deepcopy(reps)
        for rep in out:
            rep["hamstring_onset_s"] += 0.1
        return out

    own, shifted = _scored(later_hamstring)
    # true leads now -100 + 100 = 0: the detected leads are ~100 ms too negative
    assert score_row([shifted], 50.0)["lead"]["median"] == pytest.approx(
        score_row([own], 50.0)["lead"]["median"] - 100, abs=0.11
    )
    assert all(abs(r.true_lead_ms) < 1 for r in shifted.reps)


def test_score_row_counts() -> None:
    glute_first = SetScore(
        onset_errors=[
            ("glute", 1, 10.0, None),
            ("hamstring", 1, None, None),
            ("glute", 2, -4.0, None),
        ],
        spurious=1,
        reps=[RepScore(100.0, 90.0, "glute-first"), RepScore(150.0, 40.0, "simultaneous")],
        flagged=True,
    )
    near_zero = SetScore(
        reps=[
            RepScore(-20.0, -70.0, "hamstring-first"),
            RepScore(0.0, 5.0, "simultaneous"),
            RepScore(-90.0, 60.0, "glute-first"),  # clear, and called the other side
        ],
    )
    row = score_row([glute_first, near_zero], 50.0)
    assert row["onset"] == {
        "median": 7.0,
        "signed_median": 3.0,
        "p95": pytest.approx(9.7),
        "early": 0,
        "missed": 1,
        "spurious": 1,
        "onsets": 3,
    }
    assert row["lead"]["median"] == pytest.approx(np.median([-10.0, -110.0, -50.0, 5.0, 150.0]))
    assert row["order"] == {"accuracy": 0.3333, "reps": 3, "wrong_side": 1}
    assert row["near_zero"] == {"reps": 2, "hamstring_first": 1}
    # clear reps by side: -90 ms (called glute-first); +100 and +150 ms (none hamstring-first)
    assert row["sides"] == {
        "hamstring_first": {"reps": 1, "called_hamstring_first": 0},
        "glute_first": {"reps": 2, "called_hamstring_first": 0},
    }
    # a wider margin (the squat's 100 ms) makes -90 ms "simultaneous" in the order figures,
    # but it is still a hamstring-first rep to miss
    assert score_row([glute_first, near_zero], 100.0)["sides"] == row["sides"]
    assert row["flags"] == {"glute_first_sets": 1, "false_flags": 1}


def test_family_set_is_scored_and_summarised() -> None:
    case = next(c for c in family_cases(reps=3) if c.group == "first burst")
    fset = FamilySet(
        "motor-unit",
        case,
        dataclasses.replace(case.condition, fs=1000.0, lead_ms=80.0, first_onset_s=0.8),
        3,
    )
    score = evaluate_family_set(fset, AnalysisConfig())
    assert len(score.reps) == 3 and len(score.onset_errors) == 6
    summary = summarize_families([FamilyOutcome(fset, score)], 50.0)
    (row,) = summary["conditions"]
    assert (row["family"], row["group"]) == ("motor-unit", "first burst")
    (first,) = summary["first_burst"]
    assert first["first"]["onsets"] == 2 and first["later"]["onsets"] == 4
    assert first["first"]["missed"] == 0 and first["first"]["median"] < 50


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "reps"),
        ({"reps": []}, "reps"),
        ({"reps": [3]}, "reps[0]"),
        ({"reps": [{"glute_onset_s": 1.0}]}, "reps[0].hamstring_onset_s"),
        ({"reps": [{"glute_onset_s": "1", "hamstring_onset_s": 1.0}]}, "reps[0].glute_onset_s"),
        ({"reps": [{"glute_onset_s": -1.0, "hamstring_onset_s": 1.0}]}, "reps[0].glute_onset_s"),
    ],
)
def test_bad_truth_names_the_field(data: object, field: str) -> None:
    with pytest.raises(EmgInputError) as error:
        parse_truth(data, "lab.truth.json")
    assert error.value.field == field and error.value.source == "lab.truth.json"


def test_a_rep_listed_twice_is_refused_naming_it() -> None:
    # it was matched to one detected rep twice, and the other detected rep counted spurious
    rep = {"glute_onset_s": 3.0, "hamstring_onset_s": 3.08}
    later = {"glute_onset_s": 6.0, "hamstring_onset_s": 6.08}
    with pytest.raises(EmgInputError, match=r"starts 0\.000 s after reps") as error:
        parse_truth({"reps": [rep, later, dict(rep)]}, "lab.truth.json")
    assert error.value.field == "reps[2]"
    assert len(parse_truth({"reps": [rep, later]}, "lab.truth.json")) == 2


def test_an_empty_list_of_reps_is_said_as_such() -> None:
    # it was refused as if 'reps' were missing
    with pytest.raises(EmgInputError, match="is an empty list: there is no true rep to score"):
        parse_truth({"reps": []}, "lab.truth.json")


def test_truth_is_parsed() -> None:
    reps = parse_truth(
        {"reps": [{"glute_onset_s": 1, "hamstring_onset_s": 1.08, "order": "x"}]}, "t.json"
    )
    assert reps == [{"index": 1, "glute_onset_s": 1.0, "hamstring_onset_s": 1.08}]
