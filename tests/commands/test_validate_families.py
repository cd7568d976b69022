from __future__ import annotations

import json
from pathlib import Path

import pytest

import emg
from emg.cli import main
from emg.commands.validate import format_families


def _synth(tmp_path: Path) -> Path:
    out = tmp_path / "set.csv"
    args = ["synth", str(out), "--reps", "3", "--lead-ms", "-100", "--snr-db", "20"]
    assert main(args) == 0
    return out


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    capsys.readouterr()
    assert main(args) == 0
    data: dict = json.loads(capsys.readouterr().out)
    return data


def test_truth_file_scores_its_own_set_and_a_shifted_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _synth(tmp_path)
    truth_file = tmp_path / "set.truth.json"
    # the recording beside FILE.truth.json is found on its own
    own = _json(capsys, ["validate", "--truth", str(truth_file), "--json"])
    assert own["file"] == str(csv) and own["true_reps"] == 3
    assert own["onset"]["missed"] == 0 and own["onset"]["onsets"] == 6
    assert own["onset"]["median"] < 15 and abs(own["lead"]["median"]) < 15
    assert own["order"] == {"accuracy": 1.0, "reps": 3, "wrong_side": 0}
    truth = json.loads(truth_file.read_text())
    for rep in truth["reps"]:
        rep["glute_onset_s"] += 0.1
        rep["hamstring_onset_s"] += 0.1
    shifted_file = tmp_path / "lab.json"
    shifted_file.write_text(json.dumps(truth))
    late = _json(capsys, ["validate", "--truth", str(shifted_file), str(csv), "--json"])
    assert late["onset"]["signed_median"] == pytest.approx(-100, abs=15)
    assert late["onset"]["signed_median"] == pytest.approx(
        own["onset"]["signed_median"] - 100, abs=0.11
    )
    assert main(["validate", "--truth", str(shifted_file), str(csv)]) == 0
    table = capsys.readouterr().out
    assert f"{csv} against {shifted_file}: 3 true reps" in table
    assert "| 1 | -100.0 ms |" in table
    # every onset now 100 ms before its truth: all six counted as more than 20 ms early
    assert own["onset"]["early"] == 0 and late["onset"]["early"] == 6
    assert "| > 20 ms early | missed |" in table


def test_bad_truth_file_is_one_line_naming_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _synth(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"reps": [{"glute_onset_s": 1.0, "hamstring_onset_s": "x"}]}))
    capsys.readouterr()
    assert main(["validate", "--truth", str(bad), str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(bad) in err and "reps[0].hamstring_onset_s" in err
    bad.write_text("{not json")
    assert main(["validate", "--truth", str(bad), str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "line 1" in err
    lab = tmp_path / "lab.json"  # a truth under a name of its own: no recording beside it
    lab.write_text((tmp_path / "set.truth.json").read_text())
    assert main(["validate", "--truth", str(lab)]) == 2
    assert "no recording given" in capsys.readouterr().err
    # onsets past the recording's end (another recording's truth, or milliseconds)
    bad.write_text(json.dumps({"reps": [{"glute_onset_s": 1.0, "hamstring_onset_s": 500}]}))
    assert main(["validate", "--truth", str(bad), str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "reps[0].hamstring_onset_s" in err
    assert "500 s is past the end of the recording" in err
    # a family's sets and a recording's truth are two different validations
    assert main(["validate", "--family", "spectral", "--truth", str(bad), str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err == "emg: error: command line: --family simulates its own sets; --truth scores a "
        "recording: give one of them"
    )


def test_family_tables(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["validate", "--family", "motor-unit", "--seeds", "1", "--lead-ms", "80"]
    summary = _json(capsys, [*args, "--fs", "1000", "--reps", "2", "--json"])
    assert summary["grid"]["sets"] == len(summary["conditions"]) == 13
    assert {row["family"] for row in summary["conditions"]} == {"motor-unit"}
    assert all(row["onset"]["onsets"] == 4 for row in summary["conditions"])
    quiet = next(r for r in summary["conditions"] if r["label"] == "20 dB")
    assert quiet["onset"]["missed"] == 0 and quiet["onset"]["median"] < 30
    (first,) = summary["first_burst"]
    assert first["first"]["onsets"] == 4 and first["later"]["onsets"] == 4
    out = format_families(summary)
    assert "| motor-unit | equal SNR: 20 dB |" in out
    assert "| p95 \\|error\\| | > 20 ms early | missed |" in out
    row = next(line for line in out.splitlines() if "| motor-unit | equal SNR: 20 dB |" in line)
    assert row.count("|") == 10  # a cell per column
    assert "First burst of the stream" in out
    assert main(["validate", "--family", "nope"]) == 2
    assert "--family: unknown family 'nope'" in capsys.readouterr().err


def test_family_compare_puts_the_refinements_side_by_side(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["validate", "--family", "spectral", "--seeds", "1", "--lead-ms", "80"]
    args += ["--fs", "1000", "--reps", "2", "--compare"]
    compared = _json(capsys, [*args, "--json"])["refinements"]
    names = [s["grid"]["refinement"] for s in compared]
    assert names == ["cusum-edge", "cusum", "edge", "bonato", "bayes", "aglr"]
    for summary in compared:
        assert len(summary["targets"]) == 15
        assert {t["where"].split(":")[0] for t in summary["targets"] if t["value"] is not None} <= {
            "spectral",
            "all",
        }
    # the same sets: the same true onsets, placed differently
    onsets = [[r["onset"]["onsets"] for r in s["conditions"]] for s in compared]
    assert all(o == onsets[0] for o in onsets[1:])
    assert main(args) == 0
    out = capsys.readouterr().out
    header = "| target | cusum-edge | cusum | edge | bonato | bayes | aglr |"
    assert header in out and "| targets held |" in out
    # every set is glute-first by 80 ms: no hamstring-first rep to miss, each rep a chance of a
    # false call
    for summary in compared:
        calls = summary["hamstring_first_calls"]
        reps = sum(r["order"]["reps"] for r in summary["conditions"])
        assert calls["missed"] == calls["hamstring_first"] == 0
        assert calls["not_hamstring_first"] == reps > 0
    cells = " | ".join(f"{c['hamstring_first_calls']['false']} of {reps}" for c in compared)
    assert f"| reps within +-20 ms or glute-first called hamstring-first | {cells} |" in out
    assert out.count("Targets, each judged on the worst family and condition") == len(compared)


def test_a_truth_file_finds_its_session_and_a_missing_one_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).resolve().parents[2] / "recordings" / "examples"
    truth = example / "hip-thrust-synthetic" / "truth.json"
    # a synthetic session keeps its truth beside its samples: the session is the recording
    assert main(["validate", "--truth", str(truth), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["file"] == str(truth.parent)
    missing = tmp_path / "nope.truth.json"
    assert main(["validate", "--truth", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"emg: error: {missing}: cannot read it: No such file or directory\n"


def test_a_truth_file_of_both_sides_scores_each_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # only the left side's reps were scored: "order right 100 % of 4", with 16 onsets
    csv = tmp_path / "sides.csv"
    assert (
        main(["synth", str(csv), "--sides", "--reps", "4", "--lead-ms", "-80", "--seed", "2"]) == 0
    )
    truth = tmp_path / "sides.truth.json"
    scored = _json(capsys, ["validate", "--truth", str(truth), "--json"])
    assert scored["true_reps"] == 4 and scored["onset"]["onsets"] == 16
    assert scored["order"] == {"accuracy": 1.0, "reps": 8, "wrong_side": 0}
    assert [(r["rep"], r["side"]) for r in scored["reps"]] == [
        (k, side) for k in (1, 2, 3, 4) for side in ("left", "right")
    ]
    analysis = emg.analyze(csv).to_dict()["reps"]
    leads = {(r["index"], r["side"]): r["lead_ms"] for r in analysis}
    assert all(
        r["lead_ms"] == pytest.approx(leads[(r["rep"], r["side"])], abs=0.06)
        for r in scored["reps"]
    )
    assert main(["validate", "--truth", str(truth)]) == 0
    assert "| 1 (right) | -80.0 ms |" in capsys.readouterr().out
