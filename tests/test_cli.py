from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emg.cli import build_parser, main

COMMANDS = [
    "demo",
    "synth",
    "analyze",
    "validate",
    "record",
    "replay",
    "live",
    "report",
    "export",
    "profiles",
    "decode",
    "scan",
    "emulate",
    "history",
    "athletes",
]


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
    rows = [line.split() for line in text.splitlines()]
    detected = [r[3] for r in rows if len(r) == 8 and r[3].endswith("-first")]
    assert detected == ["glute-first"] * 4 + ["hamstring-first"] * 4
    assert "flag at 18." in text and "hamstrings started 3 of the last 3 reps" in text
    # the demo set tires (fatigue 0.15): the flag and the falling hamstring median frequency
    assert "cramp risk: warning" in text and "hamstring median frequency" in text


def _synth(path: Path, *extra: str) -> None:
    assert main(["synth", str(path), "--reps", "6", "--seed", "3", "--snr-db", "15", *extra]) == 0


def test_analyze_json_has_reps_flags_and_cramp_risk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "set.csv"
    _synth(path, "--lead-ms", "80,80,-100,-100,-100,-100")
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    reps = summary["reps"]
    assert [r["order"] for r in reps] == [t["order"] for t in truth["reps"]]
    for rep, true in zip(reps, truth["reps"], strict=True):
        assert abs(rep["glute_onset_s"] - true["glute_onset_s"]) < 0.04
        assert abs(rep["lead_ms"] - true["lead_ms"]) < 40
        assert rep["decided_at_s"] > max(true["glute_onset_s"], true["hamstring_onset_s"])
        assert rep["unit"] == "x rest" and rep["ratio"] > 0
        assert set(rep) >= {
            "index", "start_s", "end_s", "glute_onset_s", "hamstring_onset_s", "lead_ms",
            "order", "ratio", "decided_at_s",
        }  # fmt: skip
    assert summary["normalisation"]["method"] == "rest"
    (flag,) = summary["flags"]
    assert flag["kind"] == "hamstring-first" and flag["reps"] == [3, 4]
    assert flag["time_s"] == reps[3]["decided_at_s"]
    assert summary["cramp_risk"]["level"] in ("watch", "warning")
    assert any("hamstrings started" in r for r in summary["cramp_risk"]["reasons"])
    assert "not a diagnosis" in summary["note"]


def test_analyze_table_lists_reps_and_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "set.csv"
    _synth(path, "--lead-ms", "-100")
    capsys.readouterr()
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("hamstring-first") >= 6
    assert "flag at" in out and "cramp risk: watch" in out


def test_analyze_prone_hip_extension_and_custom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "set.csv"
    _synth(path, "--lead-ms", "-100")
    capsys.readouterr()
    assert main(["analyze", str(path), "--json", "--exercise", "prone-hip-extension"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["flags"] == [] and summary["cramp_risk"]["level"] == "ok"
    assert summary["exercise"]["expected_order"] == "any"
    assert main(["analyze", str(path), "--exercise", "custom"]) == 2
    assert "--expected-order" in capsys.readouterr().err
    args = ["--exercise", "custom", "--expected-order", "hamstring-first", "--flag", "3/3"]
    assert main(["analyze", str(path), "--json", *args]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["flags"] == []
    assert summary["exercise"]["flag_rule"] == "3 of the last 3 reps"


def test_analyze_with_mvc_calibration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "set.csv"
    _synth(path)
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    mvc = truth["mvc_uv"]
    capsys.readouterr()
    args = ["--mvc", f"glute={mvc['glute']}uv", "--mvc", f"hamstring={mvc['hamstring']}uv"]
    assert main(["analyze", str(path), "--json", *args]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["normalisation"]["method"] == "mvc"
    for rep, true in zip(summary["reps"], truth["reps"], strict=True):
        assert rep["unit"] == "%MVC"
        assert abs(rep["ratio"] / true["ratio"] - 1) < 0.15
    # an MVC from a segment of the input itself: the strongest glute rep
    strongest = max(truth["reps"], key=lambda r: r["glute_level"])
    segment = f"{strongest['glute_onset_s']:.2f}-{strongest['glute_offset_s']:.2f}"
    args = ["--mvc", f"glute={segment}", "--mvc", f"hamstring={segment}"]
    assert main(["analyze", str(path), "--json", *args]) == 0
    levels = [r["glute_level"] for r in json.loads(capsys.readouterr().out)["reps"]]
    assert 60 < max(levels) <= 100
    # only one muscle calibrated: refused, and the message says why
    assert main(["analyze", str(path), "--mvc", "glute=300uv"]) == 2
    assert "hamstring" in capsys.readouterr().err
    assert main(["analyze", str(path), "--mvc", f"glute={tmp_path / 'missing.csv'}"]) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_validate_json_small_grid(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["validate", "--json", "--seeds", "2", "--snr-db", "15", "--lead-ms", "-100,80"]
    assert main([*args, "--reps", "4", "--cramp-rep", "2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (onsets,) = summary["onsets"]
    assert onsets["missed"] == 0 and onsets["spurious"] == 0 and onsets["median"] < 20
    assert [row["accuracy"] for row in summary["order"]] == [1.0, 1.0]
    (flag,) = summary["flag"]
    assert flag["false_flags"] == 0 and flag["hits_by_rep_3"] == flag["hamstring_first_sets"] == 2
    (cramp,) = summary["cramp"]
    assert cramp["warning_before_peak"] == cramp["cramp_sets"] == 2


def test_validate_with_packet_loss(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["validate", "--json", "--seeds", "2", "--snr-db", "15", "--lead-ms", "-100,80"]
    summaries = []
    for loss in ("0", "0.03"):
        assert main([*args, "--reps", "6", "--cramp-rep", "0", "--loss", loss]) == 0
        summaries.append(json.loads(capsys.readouterr().out))
    clean, lossy = summaries
    assert lossy["grid"]["loss"] == 0.03
    # the loss reached the analysis (the onsets moved) and the answers held through it
    moved = ("median", "p95")
    assert [lossy["onsets"][0][k] for k in moved] != [clean["onsets"][0][k] for k in moved]
    assert lossy["onsets"][0]["missed"] == lossy["onsets"][0]["spurious"] == 0
    assert lossy["onsets"][0]["median"] < 20
    assert [row["accuracy"] for row in lossy["order"]] == [1.0, 1.0]
    (flag,) = lossy["flag"]
    assert flag["false_flags"] == 0 and flag["hits_by_rep_3"] == flag["hamstring_first_sets"]
    assert main(["validate", *args[2:], "--reps", "3", "--cramp-rep", "0", "--loss", "0.03"]) == 0
    assert "3 % of packets lost" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["validate", "--loss", "1"])
    assert "--loss: expected a probability" in capsys.readouterr().err


def test_validate_table(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["validate", "--seeds", "1", "--snr-db", "20", "--lead-ms", "-100", "--reps", "3"]
    assert main([*args, "--cramp-rep", "0"]) == 0
    out = capsys.readouterr().out
    assert "| 20 dB | -100 ms | hamstring-first | 100.0% |" in out


def _record_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Path:
    assert main(["record", "--out", str(tmp_path), "--speed", "max", "--no-export", *extra]) == 0
    out = capsys.readouterr().out
    (folder,) = (f for f in tmp_path.iterdir() if f.is_dir())
    assert str(folder) in out
    return folder


def test_record_prints_reps_and_flag_then_replay_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", "--out", str(tmp_path), "--speed", "max", "--no-export"]) == 0
    out = capsys.readouterr().out
    rep_lines = [line for line in out.splitlines() if line.startswith("rep ")]
    assert len(rep_lines) == 8
    assert all("glute-first" in line for line in rep_lines[:4])
    assert all("hamstring-first" in line for line in rep_lines[4:])
    assert "!!" in out and "hamstrings are leading (reps 5, 6)" in out
    (folder,) = tmp_path.glob("*-hip-thrust")
    assert (folder / "truth.json").is_file()

    assert main(["replay", str(folder), "--speed", "max", "--headless"]) == 0
    replay = capsys.readouterr().out
    assert [line for line in replay.splitlines() if line.startswith("rep ")] == rep_lines
    assert "same reps, orders, ratios and flags as the recorded run" in replay

    # other settings: the replay says it differs from the recording
    assert main(["replay", str(folder), "--speed", "max", "--margin-ms", "150", "--headless"]) == 0
    assert "differs from the recorded run" in capsys.readouterr().out


def test_record_duration_and_analyze_uses_recorded_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _record_fast(tmp_path, capsys, "--duration", "10", "--exercise", "squat")
    meta = json.loads((folder / "session.json").read_text())
    assert meta["stopped_by"] == "duration" and meta["n_samples"] == 20000
    assert main(["analyze", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["exercise"]["name"] == "squat" and summary["exercise"]["margin_ms"] == 100
    assert summary["settings"]["mains_hz"] == 50.0
    assert main(["analyze", str(folder), "--json", "--exercise", "hip-thrust"]) == 0
    assert json.loads(capsys.readouterr().out)["exercise"]["margin_ms"] == 50


def test_export_csv_and_analyze_with_channel_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _record_fast(tmp_path, capsys, "--duration", "12")
    out = tmp_path / "set.csv"
    assert main(["export", str(folder), "--to", "csv", str(out)]) == 0
    capsys.readouterr()
    table = pd.read_csv(tmp_path / "set.events.csv")
    assert list(table.columns) == [
        "time_s", "duration_s", "kind", "channel", "rep", "side", "order", "lead_ms", "ratio",
        "description",
    ]  # fmt: skip
    assert table["time_s"].is_monotonic_increasing
    reps = table[table["kind"] == "rep"]
    assert len(reps) and reps["rep"].tolist() == list(range(1, len(reps) + 1))
    assert reps["order"].isin(["glute-first", "hamstring-first", "simultaneous"]).all()
    assert reps["lead_ms"].notna().all() and reps["ratio"].notna().all()
    sidecar = json.loads((tmp_path / "set.emg.json").read_text())
    assert sidecar["SamplingFrequency"] == 2000.0
    assert sidecar["Columns"]["glute"]["Units"] == "uV"
    time = pd.read_csv(out)["time"].to_numpy()
    assert 1 / np.median(np.diff(time)) == pytest.approx(2000.0, abs=1e-6)
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(out.read_text().replace("glute,hamstring", "EMG1,EMG2", 1))
    assert main(["analyze", str(renamed), "--json"]) == 2
    assert "--channel" in capsys.readouterr().err
    code = main(
        [
            "analyze",
            str(renamed),
            "--json",
            "--channel",
            "glute=EMG1",
            "--channel",
            "hamstring=EMG2",
        ]
    )
    assert code == 0
    named = json.loads(capsys.readouterr().out)
    assert main(["analyze", str(out), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert named["reps"] == plain["reps"] and len(plain["reps"]) >= 2


def test_record_rejects_a_segment_mvc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--out", str(tmp_path), "--mvc", "glute=1-2"]) == 2
    assert "needs a recording" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["analyze", "--refinement", "foo", "set.csv"], "argument --refinement: invalid choice"),
        (["validate", "--snr-db", "abc"], "argument --snr-db"),
        (["replay"], "the following arguments are required: SESSION"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_a_command_line_argparse_refuses_is_one_line(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emg: error: command line: ")
    assert named in lines[0] and lines[0].endswith("--help)")
