"""``emg record`` and ``emg replay``: a recording too short for the analysis is kept and said
so, and refused by the replay as by ``emg analyze``; a session that keeps no analysis settings
is replayed as the exercise its ``session.json`` names."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from emg.analysis.pipeline import AnalysisConfig
from emg.cli import main
from emg.io.session_format import read_session
from emg.session import LiveSession, run_session
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session

TOO_SHORT = (
    "too little data for a baseline: 2.00 s (4000 samples) recorded, at least 3 s needed "
    "(ideally a quiet rest at the start)"
)


def test_a_recording_too_short_to_analyse_is_kept_said_and_refused_by_the_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["record", "--out", str(out), "--speed", "max", "--duration", "2", "--no-export"]
    assert main(args) == 0
    said = capsys.readouterr().out.splitlines()
    (folder,) = out.iterdir()
    assert said[-1] == f"{folder}: kept (every sample), but too short to analyse: {TOO_SHORT}"
    kept = read_session(folder)
    assert kept.n_samples == 4000 and kept.metadata["status"] == "complete"
    # analyze, and the replay (headless, and in the window) refuse it in the same line
    assert main(["analyze", str(folder)]) == 2
    refused = capsys.readouterr().err
    assert refused == f"emg: error: {folder}: {TOO_SHORT}\n"
    assert main(["replay", str(folder), "--speed", "max", "--headless"]) == 2
    assert capsys.readouterr().err == refused
    picture = tmp_path / "replay.png"
    assert main(["replay", str(folder), "--speed", "max", "--screenshot", str(picture)]) == 2
    assert capsys.readouterr().err == refused and not picture.exists()
    # long enough: nothing said
    assert main([*args[:-2], "4", "--no-export"]) == 0
    assert "too short" not in capsys.readouterr().out


def test_a_session_without_settings_replays_as_the_exercise_it_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hamstring-first reps raise the flag in the hip thrust, never in prone hip extension
    (where that order is normal)."""
    recording = generate_session(SynthConfig(reps=4, lead_ms=-120.0, seed=3)).recording
    folder = tmp_path / "s"
    live = LiveSession(
        recording.channels, recording.sample_rate, AnalysisConfig(), folder, {"exercise": "x"}
    )
    asyncio.run(run_session(replay_blocks(recording, speed=None), live))
    meta = json.loads((folder / "session.json").read_text())
    del meta["analysis"]
    meta["exercise"] = "prone-hip-extension"
    (folder / "session.json").write_text(json.dumps(meta))

    def flags(*options: str) -> list[str]:
        assert main(["replay", str(folder), "--speed", "max", "--json", *options]) == 0
        events = json.loads(capsys.readouterr().out)["events"]
        assert [e for e in events if e["kind"] == "rep-decided"]
        return [e["data"]["flag"] for e in events if e["kind"] == "flag"]

    assert flags() == []
    assert "hamstring-first" in flags("--exercise", "hip-thrust")
    meta["exercise"] = "bench-press"
    (folder / "session.json").write_text(json.dumps(meta))
    assert main(["replay", str(folder), "--speed", "max", "--headless"]) == 2
    assert capsys.readouterr().err == (
        f"emg: error: {folder / 'session.json'}: exercise 'bench-press' is not one the toolkit "
        "knows (hip-thrust, prone-hip-extension, squat, custom)\n"
    )


def test_a_replay_of_a_session_with_a_damaged_event_line_is_not_called_different(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    example = Path(__file__).resolve().parents[2] / "recordings" / "examples"
    session = tmp_path / "session"
    shutil.copytree(example / "hip-thrust-synthetic", session)
    assert main(["replay", str(session), "--speed", "max", "--headless"]) == 0
    assert "same reps, orders, ratios and flags as the recorded run" in capsys.readouterr().out
    events = session / "events.jsonl"
    lines = events.read_text().splitlines()
    lines[10] = "garbage"
    events.write_text("\n".join(lines) + "\n")
    assert main(["replay", str(session), "--speed", "max", "--headless"]) == 0
    out = capsys.readouterr().out
    assert "differs from the recorded run" not in out
    assert (
        f"not compared with the recorded run: on reading, {events}: line 11 is not a JSON "
        "event: skipped" in out
    )


def _record(tmp_path: Path, *options: str) -> Path:
    """A synthetic set recorded headless, not exported: its session folder."""
    out = tmp_path / "out"
    assert main(["record", "--out", str(out), "--speed", "max", "--no-export", *options]) == 0
    (folder,) = out.iterdir()
    return folder


def test_a_set_of_both_sides_ends_with_its_reps_per_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 4 reps a side were "8 reps" in the last line of the recording and of its replay
    folder = _record(tmp_path, "--sides", "--reps", "4", "--lead-ms", "80")
    said = capsys.readouterr().out.splitlines()
    assert "after 17.0 s: 4 reps a side, 0 flags; session in" in said[-1]
    assert main(["replay", str(folder), "--speed", "max", "--headless"]) == 0
    replayed = capsys.readouterr().out.splitlines()
    assert "stopped (end of source) after 17.0 s: 4 reps a side, 0 flags" in replayed


def test_a_replay_of_a_bdf_export_is_not_called_different(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # its annotations keep each rep's kind and description, not its order and lead: the
    # replay said "differs from the recorded run (other settings, or a different version)"
    folder = _record(tmp_path, "--reps", "3")
    assert main(["export", str(folder), "--to", "bdf", str(tmp_path / "set.bdf")]) == 0
    capsys.readouterr()
    assert main(["replay", str(tmp_path / "set.bdf"), "--speed", "max", "--headless"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert "differs" not in said[-1]
    assert said[-1].startswith("not compared with the recorded run: the recording's events keep")
    # the session keeps the reps' details, and is compared
    assert main(["replay", str(folder), "--speed", "max", "--headless"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "same reps, orders, ratios and flags as the recorded run"
    )


def test_a_synthetic_set_stopped_early_keeps_the_truth_of_what_was_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # its truth.json listed all 6 planned reps, and emg validate --truth refused it: "9.3 s
    # is past the end of the recording (8.0 s)"
    folder = _record(tmp_path, "--reps", "6", "--duration", "8")
    truth = json.loads((folder / "truth.json").read_text())
    assert (len(truth["reps"]), truth["reps_planned"], truth["duration_s"]) == (2, 6, 8.0)
    capsys.readouterr()
    assert main(["validate", "--truth", str(folder / "truth.json"), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["true_reps"] == 2 and scored["onset"]["missed"] == 0
    assert scored["order"]["accuracy"] == 1.0
