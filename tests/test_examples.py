"""The runnable examples in examples/ run and say what they should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_analyse_a_csv_prints_the_reps_and_plots_the_leads(tmp_path: Path) -> None:
    plot = tmp_path / "leads.png"
    out = _run("analyse_a_csv.py")
    assert "glute-first" in out and "hamstring-first" in out
    recording = tmp_path / "set.csv"
    subprocess.run(
        [sys.executable, "-m", "emg", "synth", str(recording), "--reps", "3", "--seed", "2"],
        capture_output=True,
        check=True,
    )
    out = _run("analyse_a_csv.py", str(recording), str(plot))
    assert out.count("glute-first") == 3
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_two_sessions_counts_the_orders() -> None:
    out = _run("compare_two_sessions.py")
    rows = {line.split("  ")[0].strip(): line.split()[-2:] for line in out.splitlines()[1:]}
    before, after = (int(v) for v in rows["glute-first"])
    assert before < after  # the second set is the glute-first one


def test_validate_on_your_data_scores_a_set_against_its_truth(tmp_path: Path) -> None:
    out = _run("validate_on_your_data.py")
    assert "cusum" in out and "edge" in out
    recording = tmp_path / "lab.csv"
    subprocess.run(
        [sys.executable, "-m", "emg", "synth", str(recording), "--reps", "4", "--seed", "3"],
        capture_output=True,
        check=True,
    )
    out = _run("validate_on_your_data.py", str(recording), str(tmp_path / "lab.truth.json"))
    assert "median |onset error|" in out and "missed 0" in out
