"""``emg analyze`` and ``emg report`` of a session that keeps no analysis settings: analysed as
the exercise its ``session.json`` names, ``--exercise`` overriding it, an exercise the toolkit
does not know refused in one line."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from emg.analysis.pipeline import AnalysisConfig
from emg.cli import main
from emg.session import LiveSession, run_session
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four hamstring-first reps recorded as a session of prone hip extension whose
    ``session.json`` has no ``analysis`` (an older or hand-made one)."""
    recording = generate_session(SynthConfig(reps=4, lead_ms=-120.0, seed=3)).recording
    folder = tmp_path_factory.mktemp("sessions") / "s"
    live = LiveSession(
        recording.channels, recording.sample_rate, AnalysisConfig(), folder, {"exercise": "x"}
    )
    asyncio.run(run_session(replay_blocks(recording, speed=None), live))
    _edit(folder, exercise="prone-hip-extension", analysis=None)
    return folder


def _edit(folder: Path, **changes: object) -> None:
    meta = json.loads((folder / "session.json").read_text())
    meta.update(changes)
    meta = {key: value for key, value in meta.items() if value is not None}
    (folder / "session.json").write_text(json.dumps(meta))


def test_analyze_takes_the_recorded_exercise_and_exercise_overrides_it(
    session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(session), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["exercise"]["name"] == "prone-hip-extension"
    assert summary["exercise"]["expected_order"] == "any" and summary["flags"] == []
    assert {rep["order"] for rep in summary["reps"]} == {"hamstring-first"}
    assert main(["analyze", str(session), "--json", "--exercise", "hip-thrust"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["exercise"]["name"] == "hip-thrust"
    assert "hamstring-first" in {flag["kind"] for flag in summary["flags"]}


def test_report_takes_the_recorded_exercise(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(session), "--out", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    assert "prone hip extension" in page and " went up " not in page
    given = ["--exercise", "hip-thrust", "--out", str(tmp_path / "h.html")]
    assert main(["report", str(session), *given]) == 0
    page = (tmp_path / "h.html").read_text()
    assert "prone hip extension" not in page and "flag went up at" in page


def test_an_exercise_the_toolkit_does_not_know_is_one_line(
    session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    for file in session.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    _edit(folder, exercise="bench-press")
    line = (
        f"emg: error: {folder / 'session.json'}: exercise 'bench-press' is not one the toolkit "
        "knows (hip-thrust, prone-hip-extension, squat, custom)\n"
    )
    assert main(["analyze", str(folder)]) == 2
    assert capsys.readouterr().err == line
    assert main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err == line and not (tmp_path / "r.html").exists()
    assert main(["analyze", str(folder), "--json", "--exercise", "squat"]) == 0
    assert json.loads(capsys.readouterr().out)["exercise"]["name"] == "squat"


EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"


def test_a_damaged_event_line_changes_no_number_of_the_analysis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A garbage line in events.jsonl of a complete session made analyze and report refuse
    it; the events change no onset: the analysis is the whole session's, the line said once."""
    folder = tmp_path / "session"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("bids"))
    lines = (folder / "events.jsonl").read_text().splitlines()
    (folder / "events.jsonl").write_text("\n".join([*lines[:6], "{garbage", *lines[6:]]) + "\n")
    warning = f"emg: warning: {folder / 'events.jsonl'}: line 7 is not a JSON event: skipped\n"
    capsys.readouterr()
    assert main(["analyze", str(folder), "--json"]) == 0
    damaged, said = capsys.readouterr()
    assert said == warning
    assert main(["analyze", str(EXAMPLE), "--json"]) == 0
    whole = capsys.readouterr().out
    assert json.loads(damaged) | {"file": ""} == json.loads(whole) | {"file": ""}
    assert json.loads(damaged)["reps"]
    assert main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 0
    assert capsys.readouterr().err == warning
    page = (tmp_path / "r.html").read_text()
    assert "Left out on reading: " in page and "line 7 is not a JSON event: skipped." in page
