"""The analysis summary's words about its levels: an MVC trial that was no maximal contraction
(a rest stretch given as the MVC) is said, a real one is not."""

from __future__ import annotations

from pathlib import Path

import pytest

import emg
from emg.analysis.summary import format_table
from emg.cli import main


def _said(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    capsys.readouterr()
    assert main(["analyze", *argv]) == 0
    return [line.strip() for line in capsys.readouterr().out.splitlines() if "%MVC:" in line]


def test_an_mvc_taken_from_rest_is_said(set_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mvc = [f"--mvc=glute={set_csv}:0-2", f"--mvc=hamstring={set_csv}:0-2"]  # the lead-in: rest
    said = _said(capsys, str(set_csv), *mvc)
    assert [line.split(":")[0] for line in said] == ["glute", "hamstring"]
    for line in said:
        median = float(line.split("median level is ")[1].split(" %MVC")[0])
        assert median > 300
        assert line.endswith(
            "%MVC: the --mvc value or trial was no maximal contraction (a rest stretch?); give one"
        )
    # a stretch of the first rep's contraction: levels about 100 %MVC, nothing said
    rep = [f"--mvc=glute={set_csv}:3-5", f"--mvc=hamstring={set_csv}:3-5"]
    assert _said(capsys, str(set_csv), *rep) == []
    assert _said(capsys, str(set_csv)) == []  # levels in multiples of rest


def test_the_table_says_a_cramp_risk_resting_on_few_reps_says_little() -> None:
    recording, _ = emg.simulate(emg.DEMO_SET, seed=2, loss=0.3)
    summary = emg.analyze(recording).to_dict()
    called = sum(r["order"] is not None for r in summary["reps"])
    assert 2 * called < len(summary["reps"])
    line = next(x for x in format_table(summary).splitlines() if x.startswith("cramp risk"))
    assert line == (
        f"cramp risk: ok (only {called} of {len(summary['reps'])} reps could be called: it says "
        "little)"
    )
    clean, _ = emg.simulate(emg.DEMO_SET, seed=2, lead_ms=80.0, fatigue=0.0)
    assert "\ncramp risk: ok\n" in format_table(emg.analyze(clean).to_dict())


def test_the_band_shown_is_the_one_the_chain_used() -> None:
    # at 250 Hz the upper edge asked for (450 Hz) is above Nyquist: the chain takes 0.45 fs
    recording, _ = emg.simulate(reps=3, fs=250.0, seed=1)
    summary = emg.analyze(recording).to_dict()
    assert summary["bandpass_hz"] == [20.0, 112.5]
    assert summary["settings"]["lowpass_hz"] == 450.0  # as asked: to run the analysis again
    assert (
        format_table(summary)
        .splitlines()[1]
        .startswith(
            "band-pass 20-112.5 Hz (450 Hz asked: at most 0.45 x the sample rate), RMS 50 ms"
        )
    )
    # a rate that holds the whole band: the band as asked, and no word of a limit
    summary = emg.analyze(emg.simulate(reps=3, seed=1)[0]).to_dict()
    assert summary["bandpass_hz"] == [20.0, 450.0]
    assert format_table(summary).splitlines()[1].startswith("band-pass 20-450 Hz, RMS 50 ms")
