from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emg.cli import build_parser, main

COMMANDS = ["demo", "synth", "analyze"]


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in [[], *[[c] for c in COMMANDS]]:
        with pytest.raises(SystemExit) as stop:
            main([*command, "--help"])
        assert stop.value.code == 0
        assert "usage: emg" in capsys.readouterr().out
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)  # type: ignore[union-attr]


def test_synth_then_analyze_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "set.csv"
    assert (
        main(
            [
                "synth",
                str(out),
                "--reps",
                "4",
                "--lead-ms",
                "-80,-80,60,60",
                "--snr-db",
                "10",
                "--fs",
                "2000",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    truth = json.loads((tmp_path / "set.truth.json").read_text())
    assert [r["lead_ms"] for r in truth["reps"]] == [-80, -80, 60, 60]
    capsys.readouterr()
    assert main(["analyze", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sample_rate"] == 2000
    assert [c["label"] for c in result["channels"]] == ["glute", "hamstring"]
    for muscle in ("glute", "hamstring"):
        onsets = [b["onset_s"] for b in result["bursts"][muscle]]
        true = [r[f"{muscle}_onset_s"] for r in truth["reps"]]
        assert len(onsets) == 4
        assert max(abs(a - b) for a, b in zip(onsets, true, strict=True)) < 0.05
        assert all(b["offset_s"] > b["onset_s"] and b["peak"] > 0 for b in result["bursts"][muscle])


def test_analyze_table_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "set.csv"
    main(["synth", str(out), "--reps", "2"])
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 0
    assert "glute: 2 bursts" in capsys.readouterr().out
    short = tmp_path / "short.csv"
    short.write_text("time,glute\n" + "".join(f"{i / 1000},1\n" for i in range(500)))
    assert main(["analyze", str(short)]) == 2
    assert "too little data for a baseline" in capsys.readouterr().err


def test_errors_print_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,glute\n0,1\n0.001,x\n")
    run = subprocess.run(
        [sys.executable, "-m", "emg.cli", "analyze", str(bad)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert f"{bad}, line 3, column 'glute'" in run.stderr


def test_demo_runs_and_shows_truth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "glute: 8 bursts" in text and "hamstring: 8 bursts" in text
    assert text.count("hamstring-first") == 4
