"""Athletes' sessions across days: recorded at once by several processes into one database,
equal to ``emg analyze`` of each folder, rebuilt from the folders after a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emg.analysis.history import trend
from emg.athlete_db import DB_NAME, MIGRATIONS, open_db
from emg.athlete_history import athletes, history, history_table, index_recording, rebuild
from emg.cli import main
from emg.errors import EmgInputError

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _record(parent: Path, athlete: str, seed: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emg",
            "record",
            "--out",
            str(parent),
            "--athlete",
            athlete,
            "--seed",
            str(seed),
            "--no-export",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _analyzed(folder: str) -> dict[str, float | None]:
    """Median lead, median ratio and glute-first share of ``emg analyze FOLDER --json``."""
    run = subprocess.run(
        [sys.executable, "-m", "emg", "analyze", folder, "--json"],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
    )
    reps = json.loads(run.stdout)["reps"]
    leads = [r["lead_ms"] for r in reps if r["lead_ms"] is not None]
    ratios = [r["ratio"] for r in reps if r["ratio"] is not None]
    orders = [r["order"] for r in reps if r["order"] is not None]
    return {
        "reps": len(reps),
        "median_lead_ms": round(float(np.median(leads)), 4),
        "median_ratio": round(float(np.median(ratios)), 4),
        "glute_first_share": orders.count("glute-first") / len(orders),
    }


def test_sessions_recorded_at_once_are_those_emg_analyze_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    who = [("Ana", 1), ("Ana", 2), ("Ana", 3), ("Ben", 4), ("Cleo", 5)]
    processes = [_record(tmp_path, name, seed, "--speed", "max") for name, seed in who]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "indexed" in out, out
    db = tmp_path / DB_NAME
    assert athletes(db) == ["Ana", "Ben", "Cleo"]
    assert main(["history", "Ana", "--db", str(db), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["athlete"] == "Ana" and len(listed["sessions"]) == 3
    dates = [s["date"] for s in listed["sessions"]]
    assert dates == sorted(dates)
    for session in listed["sessions"]:
        expected = _analyzed(session["folder"])
        assert {k: session[k] for k in expected} == expected
    assert listed["trend"]["sessions"] == 3
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_killed_recording_leaves_the_database_readable_and_the_rebuild_adds_it(
    tmp_path: Path,
) -> None:
    done = _record(tmp_path, "Ben", 4, "--speed", "max")
    assert done.wait(timeout=300) == 0
    # 48 reps, about 50 s at 3x: the kill, once 7 s are on disk, comes long before the end
    # however busy the machine (a session that ended would be indexed)
    killed = _record(tmp_path, "Ana", 7, "--speed", "3", "--reps", "48")
    deadline = time.monotonic() + 120
    folder = None
    while time.monotonic() < deadline and folder is None:
        for candidate in tmp_path.glob("*/samples.f32"):
            meta = json.loads((candidate.parent / "session.json").read_text())
            if meta.get("athlete") == "Ana" and candidate.stat().st_size > 7 * 2000 * 2 * 4:
                folder = candidate.parent
        time.sleep(0.1)
    assert folder is not None, killed.communicate()
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    db = tmp_path / DB_NAME
    assert athletes(db) == ["Ben"]  # readable; the killed session never got to the index
    result = rebuild(db)
    assert len(result.indexed) == 2 and result.failed == ()
    (entry,) = history("Ana", db)
    assert entry.folder == str(folder.resolve())
    expected = _analyzed(str(folder))
    row = history_table([entry]).iloc[0]
    assert {k: row[k] for k in expected} == pytest.approx(expected)


def test_analyze_indexes_a_file_and_names_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "set.csv"
    assert main(["synth", str(csv), "--reps", "4", "--seed", "3"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(csv), "--athlete", "  Dana  Lee ", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    (entry,) = history("Dana Lee", tmp_path / DB_NAME)
    assert [r.lead_ms for r in entry.reps] == [r["lead_ms"] for r in printed["reps"]]
    assert main(["analyze", str(csv), "--athlete", "..."]) == 2
    assert "--athlete: '...' is not a name" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path), "--athlete", "Dana"]) == 2
    assert "--athlete indexes one recording at a time" in capsys.readouterr().err
    assert main(["history", "Nobody", "--db", str(tmp_path / DB_NAME)]) == 2
    assert "no sessions of 'Nobody'; athletes: Dana Lee" in capsys.readouterr().err
    png = tmp_path / "trend.png"
    plot = ["history", "Dana Lee", "--db", str(tmp_path / DB_NAME), "--plot"]
    capsys.readouterr()
    assert main([*plot, str(png)]) == 0
    assert png.stat().st_size > 10_000
    assert f"wrote {png}" in capsys.readouterr().out
    # an existing file is kept unless --overwrite (it was replaced without a word)
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"mine")
    assert main([*plot, str(mine)]) == 2
    assert "exists already: pass --overwrite" in capsys.readouterr().err
    assert mine.read_bytes() == b"mine"
    assert main([*plot, str(mine), "--overwrite"]) == 0 and mine.stat().st_size > 10_000
    # a name without an ending gets .png, and is said; a folder is refused
    assert main([*plot, str(tmp_path / "plain")]) == 0
    assert f"wrote {tmp_path / 'plain.png'}" in capsys.readouterr().out
    (tmp_path / "folder.png").mkdir()
    assert main([*plot, str(tmp_path / "folder.png")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_the_library_call_indexes_as_the_command_does(tmp_path: Path) -> None:
    import emg

    csv = tmp_path / "set.csv"
    recording, _ = emg.simulate(reps=4, seed=5)
    emg.analyze(recording)  # no athlete: nothing indexed
    from emg.io.csv_format import write_emg_csv

    write_emg_csv(csv, recording)
    analysis = emg.analyze(csv, athlete="Finn")
    (entry,) = history("Finn", tmp_path / DB_NAME)
    assert [r.order for r in entry.reps] == list(analysis.reps["order"])
    with pytest.raises(EmgInputError, match="athlete"):
        emg.analyze(recording, athlete="Finn")


def test_database_schema_migrates_and_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    with open_db(db) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(EmgInputError, match="newer than this toolkit's"), open_db(db):
        pass
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database at all" * 100)
    with pytest.raises(EmgInputError) as raised, open_db(broken):
        pass
    assert str(raised.value).startswith(str(broken)) and "\n" not in str(raised.value)


def test_indexing_a_session_again_replaces_it(tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    assert main(["record", "--out", str(folder), "--speed", "max", "--no-export"]) == 0
    (session,) = folder.glob("*/session.json")
    db = tmp_path / DB_NAME
    first = index_recording(session.parent, "Eve", db)
    again = index_recording(session.parent, "Eve", db)
    assert history("Eve", db) == [again] and first == again


def test_the_report_shows_progress_once_there_are_earlier_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rec"
    for seed in (1, 2, 3):
        args = ["record", "--out", str(out), "--speed", "max", "--no-export", "--seed", str(seed)]
        assert main([*args, "--athlete", "Gus"]) == 0
    folders = sorted(p.parent for p in out.glob("*/session.json"))
    capsys.readouterr()
    first, last = tmp_path / "first.html", tmp_path / "last.html"
    assert main(["report", str(folders[0]), "--out", str(first)]) == 0
    assert main(["report", str(folders[-1]), "--out", str(last)]) == 0
    assert "Progress of" not in first.read_text(encoding="utf-8")
    page = last.read_text(encoding="utf-8")
    assert "Progress of Gus" in page and page.count('<tr class="this">') == 1
    section = page[page.index('id="progress"') :]
    assert section[: section.index("</section>")].count("<tr") == 4  # header and 3 sessions
    assert "Over 3 hip-thrust sessions the share" in section


def test_the_trend_compares_sessions_of_one_exercise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A squat after a hip thrust was "glute-first share -88 %, median lead -79 ms", and a
    hip thrust's report took the squat into its progress."""
    out, db = tmp_path / "rec", tmp_path / "rec" / DB_NAME
    args = ["record", "--out", str(out), "--speed", "max", "--no-export", "--athlete", "Ida"]
    assert main([*args, "--reps", "4", "--lead-ms", "80", "--seed", "1"]) == 0
    assert main([*args, "--reps", "4", "--lead-ms", "-90", "--exercise", "squat"]) == 0
    assert main([*args, "--reps", "4", "--lead-ms", "80", "--seed", "2"]) == 0
    entries = history("Ida", db)
    assert [e.exercise for e in entries] == ["hip-thrust", "squat", "hip-thrust"]
    change = trend(entries)
    assert (change.exercise, change.sessions, change.glute_first_share) == ("hip-thrust", 2, 0.0)
    assert trend(entries, "squat").sessions == 1
    capsys.readouterr()
    assert main(["history", "Ida", "--db", str(db)]) == 0
    assert "first to last of 2 hip-thrust sessions: glute-first share +0%" in (
        capsys.readouterr().out
    )
    page = tmp_path / "last.html"
    assert main(["report", entries[-1].folder, "--out", str(page)]) == 0
    section = page.read_text(encoding="utf-8")
    section = section[section.index('id="progress"') :]
    assert section[: section.index("</section>")].count("<tr") == 3  # the squat left out


def test_an_earlier_sessions_mvc_is_reused_with_its_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rec"
    base = ["record", "--out", str(out), "--speed", "max", "--no-export", "--athlete", "Hana"]
    mvc = ["--mvc", "glute=310uv", "--mvc", "hamstring=280uv"]
    assert main([*base, *mvc]) == 0
    assert main([*base, "--reuse-mvc", "--seed", "3"]) == 0
    err = capsys.readouterr().err
    first, second = sorted(out.glob("*/session.json"))
    first_meta, second_meta = (json.loads(p.read_text()) for p in (first, second))
    assert f"MVC from the session of {first_meta['started_at'][:10]}" in err
    calibration = second_meta["calibration"]
    assert calibration["mvc_uv"] == {"glute": 310.0, "hamstring": 280.0}
    assert calibration["mvc_from"]["folder"] == str(first.parent.resolve())
    (_, again) = history("Hana", out / DB_NAME)
    assert again.unit == "%MVC"
    assert main(["record", "--out", str(out), "--speed", "max", "--reuse-mvc"]) == 2
    assert "--reuse-mvc needs --athlete" in capsys.readouterr().err


def test_the_library_reuses_an_mvc_as_the_command_does(tmp_path: Path) -> None:
    import emg
    from emg.io.csv_format import write_emg_csv

    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path, seed in ((first, 1), (second, 2)):
        write_emg_csv(path, emg.simulate(reps=3, seed=seed)[0])
    emg.analyze(first, athlete="Ivo", mvc={"glute": 300.0, "hamstring": 250.0})
    reused = emg.analyze(second, athlete="Ivo", reuse_mvc=True)
    assert dict(reused.settings.normalisation.mvc_uv) == {"glute": 300.0, "hamstring": 250.0}
    assert emg.analyze(second).settings.normalisation.mvc_uv == {}
    with pytest.raises(EmgInputError, match="reuse_mvc"):
        emg.analyze(second, reuse_mvc=True)


def test_a_session_indexed_under_one_athlete_is_not_moved_to_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import emg

    csv = tmp_path / "set.csv"
    assert main(["synth", str(csv), "--reps", "3", "--seed", "4"]) == 0
    db = tmp_path / DB_NAME
    assert main(["analyze", str(csv), "--athlete", "Ana", "--json"]) == 0
    (indexed,) = history("Ana", db)
    capsys.readouterr()
    assert main(["analyze", str(csv), "--athlete", "Ben", "--json"]) == 2
    assert capsys.readouterr() == (
        "",
        f"emg: error: {csv.resolve()}: already indexed under the athlete 'Ana': not moved to "
        "'Ben' (a session stays with the athlete it was first indexed under)\n",
    )
    with pytest.raises(EmgInputError, match="already indexed under the athlete 'Ana'"):
        emg.analyze(csv, athlete="Ben")
    assert athletes(db) == ["Ana"] and history("Ana", db) == [indexed]
    assert main(["analyze", str(csv), "--athlete", " Ana ", "--json"]) == 0  # the same: again
    assert history("Ana", db) == [indexed]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("\x1b[31mRed", "the name holds a control character (U+001B); give it as plain text"),
        ("Dana\tLee", "the name holds a control character (U+0009); give it as plain text"),
        ("\udcffAna", "the name holds an undecodable character (U+DCFF); give it as plain text"),
        ("a" * 100_000, "the name is 100000 characters long; at most 200"),
        ("a" * 201, "the name is 201 characters long; at most 200"),
    ],
    ids=["escape", "tab", "undecodable", "100000-long", "201-long"],
)
def test_an_athlete_name_that_is_not_plain_text_is_refused(
    name: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import emg

    csv = tmp_path / "set.csv"
    assert main(["synth", str(csv), "--reps", "3", "--seed", "4"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(csv), "--athlete", name]) == 2
    assert capsys.readouterr() == ("", f"emg: error: command line: --athlete: {reason}\n")
    with pytest.raises(EmgInputError) as raised:
        emg.analyze(csv, athlete=name)
    assert str(raised.value) == f"athlete: {reason}"
    assert not (tmp_path / DB_NAME).exists()
    assert main(["analyze", str(csv), "--athlete", "a" * 200]) == 0  # as long as may be
    assert athletes(tmp_path / DB_NAME) == ["a" * 200]


def test_a_rebuild_of_a_copied_recordings_folder_counts_each_session_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copy's database named the originals, which still exist: each session was listed
    twice, and the rebuild said they were kept as "no session folder names them"."""
    import shutil

    out = tmp_path / "rec"
    args = ["record", "--out", str(out), "--speed", "max", "--no-export", "--athlete", "Kai"]
    assert main([*args, "--reps", "3", "--seed", "1"]) == 0
    assert main([*args, "--reps", "3", "--seed", "2"]) == 0
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    capsys.readouterr()
    done = rebuild(copy / DB_NAME)
    assert len(done.indexed) == 2 and done.kept == () and len(done.copies) == 2
    entries = history("Kai", copy / DB_NAME)
    assert sorted(Path(e.folder).parent for e in entries) == [copy.resolve(), copy.resolve()]
    # the original's database is as it was
    assert all(Path(e.folder).parent == out.resolve() for e in history("Kai", out / DB_NAME))
