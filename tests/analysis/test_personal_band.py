"""The athlete's own band: made from earlier glute-first reps, it adds the outside-own-band
flag and changes no order decision and no flag of the exercise rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import emg
from emg.analysis.history import RepEntry, SessionEntry, personal_band
from emg.analysis.personal_band import PersonalBand
from emg.athlete_db import DB_NAME
from emg.io.csv_format import write_emg_csv
from emg.ui.live_state import RepTile


def _entry(leads: list[float], date: str, exercise: str = "hip-thrust") -> SessionEntry:
    reps = tuple(
        RepEntry(i + 1, None, lead, "glute-first", 1.2, 0.3, 0.25, 90.0, 95.0, "", "ok")
        for i, lead in enumerate(leads)
    )
    return SessionEntry(
        "Ana", f"/s/{date}", date, exercise, ("a",), None, {}, "x rest", reps,
        1.0, None, None, (), "ok",
    )  # fmt: skip


def test_band_is_median_and_twice_the_robust_sd() -> None:
    leads = [60.0, 70.0, 80.0, 90.0, 100.0, 65.0, 75.0, 85.0, 95.0, 80.0]
    band = personal_band(
        [_entry(leads[:5], "2026-01-01"), _entry(leads[5:], "2026-01-08")], "hip-thrust"
    )
    assert band is not None
    assert band.lead_ms == 80.0 and band.reps == 10 and band.sessions == 2
    assert band.lead_halfwidth_ms == pytest.approx(2 * 1.4826 * 10.0, abs=0.1)
    assert band.since == "2026-01-01"
    assert band.outside(40.0) and not band.outside(100.0)
    assert personal_band([_entry(leads[:9], "2026-01-01")], "hip-thrust") is None  # too few
    assert personal_band([_entry(leads, "2026-01-01", "squat")], "hip-thrust") is None


def test_the_band_adds_its_flag_and_changes_nothing_else(tmp_path: Path) -> None:
    usual = [emg.simulate(reps=6, lead_ms=80.0, seed=seed, snr_db=20)[0] for seed in (1, 2)]
    for number, recording in enumerate(usual):
        path = tmp_path / f"usual{number}.csv"
        write_emg_csv(path, recording)
        emg.analyze(path, athlete="Ana")
    lead_ms = (80.0, -90.0, 80.0, -90.0, 80.0, 80.0)
    today, _ = emg.simulate(reps=6, lead_ms=lead_ms, seed=9, snr_db=20)
    path = tmp_path / "today.csv"
    write_emg_csv(path, today)
    plain = emg.analyze(path).to_dict()
    judged = emg.analyze(path, athlete="Ana").to_dict()
    band = judged["personal_band"]
    assert band["reps"] >= 10 and abs(band["lead_ms"] - 80.0) < 15.0
    assert [r["order"] for r in judged["reps"]] == [r["order"] for r in plain["reps"]]
    assert [r["lead_ms"] for r in judged["reps"]] == [r["lead_ms"] for r in plain["reps"]]
    own = [f for f in judged["flags"] if f["kind"].startswith("outside-own-band")]
    rule = [f for f in judged["flags"] if not f["kind"].startswith("outside-own-band")]
    assert rule == plain["flags"] and judged["cramp_risk"] == plain["cramp_risk"]
    raised = [f["reps"] for f in own if f["kind"] == "outside-own-band"]
    assert raised and {r for reps in raised for r in reps} == {2, 4}
    assert "personal_band" not in plain
    assert (tmp_path / DB_NAME).is_file()


def test_a_tile_says_how_far_outside_the_band() -> None:
    tile = RepTile(3, None, "hamstring-first", -40.0, band=(60.0, 25.0))
    assert tile.label == "hamstrings first by 40 ms — outside your usual +60 ± 25 ms"
    inside = RepTile(4, None, "glute-first", 70.0, band=(60.0, 25.0))
    assert inside.label == "glutes first by 70 ms"


def test_a_band_is_kept_with_the_settings() -> None:
    from emg.analysis.pipeline import AnalysisConfig
    from emg.analysis.settings import settings_from_dict, settings_to_dict

    band = PersonalBand("hip-thrust", 60.0, 25.0, 1.1, 0.2, 12, 2, "2026-01-01")
    config = dataclasses.replace(AnalysisConfig(), band=band)
    assert settings_from_dict(settings_to_dict(config)) == config
    assert "band" not in settings_to_dict(AnalysisConfig())
