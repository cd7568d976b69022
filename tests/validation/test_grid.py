from __future__ import annotations

import numpy as np
import pytest

from emg.analysis.pipeline import AnalysisConfig
from emg.validation.grid import (
    SetOutcome,
    ValidationGrid,
    match_onsets,
    run_validation,
    summarize_validation,
)
from emg.validation.peers import activity_onsets, available_peers


def test_match_onsets() -> None:
    errors, missed, spurious = match_onsets(np.array([1.01, 2.5, 3.0]), np.array([1.0, 3.02, 5.0]))
    assert errors == pytest.approx([10.0, -20.0])
    assert (missed, spurious) == (1, 1)


def test_activity_onsets_bridges_dips_and_drops_blips() -> None:
    active = np.zeros(1000, dtype=bool)
    active[100:300] = True
    active[305:400] = True  # a 5-sample dip: same burst
    active[600:620] = True  # a 20-sample blip: not a burst
    assert activity_onsets(active, min_on=100, max_gap=10).tolist() == [100]


def test_grid_cells_are_reproducible_and_distinct() -> None:
    grid = ValidationGrid(snr_db=(10.0,), leads_ms=(-80.0, 80.0), seeds=(0, 1), cramp_rep=3)
    sets = list(grid.sets())
    assert [kind for kind, _ in sets] == ["lead"] * 4 + ["cramp"] * 2
    assert len({config.seed for _, config in sets}) == 6
    assert [c.seed for _, c in grid.sets()] == [c.seed for _, c in sets]


def test_summary_numbers() -> None:
    grid = ValidationGrid(snr_db=(15.0,), leads_ms=(-100.0, 100.0), seeds=(0,), reps=4)
    outcomes = run_validation(grid, AnalysisConfig())
    summary = summarize_validation(outcomes, 50.0, "hamstring-first")
    assert summary["onsets"][0]["onsets"] == 16 and summary["onsets"][0]["missed"] == 0
    assert [row["accuracy"] for row in summary["order"]] == [1.0, 1.0]
    assert summary["flag"][0]["hits_by_rep_3"] == 1 and summary["flag"][0]["false_flags"] == 0
    assert 50 < summary["decision_delay_ms"]["median"] < 150
    assert summary["ratio"]["median"] < 10


@pytest.mark.skipif(not available_peers(), reason="neither NeuroKit2 nor BioSPPy installed")
def test_peers_find_the_onsets() -> None:
    grid = ValidationGrid(snr_db=(20.0,), leads_ms=(80.0,), seeds=(0,), reps=3, cramp_rep=0)
    (outcome,) = run_validation(grid, AnalysisConfig(), available_peers())
    assert set(outcome.peers) == {"emg", *available_peers()}
    for name, (errors, missed, _) in outcome.peers.items():
        assert missed <= 1, name
        assert float(np.median(np.abs(errors))) < 60, name


def test_the_detectors_rows_come_in_the_same_order_every_run() -> None:
    # ours first, then by name (the names come from a set, whose order changes between runs)
    peers = {name: ([5.0, 7.0], 0, 0) for name in ("neurokit2", "emg", "biosppy", "aaa")}
    outcome = SetOutcome("lead", 20.0, 80.0, 0, onset_errors_ms=[5.0, 7.0], peers=peers)
    summary = summarize_validation([outcome], 50.0, "hamstring-first")
    assert [row["detector"] for row in summary["peers"]] == ["emg", "aaa", "biosppy", "neurokit2"]
