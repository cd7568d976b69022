"""Every command against every bad input: exit status 1-3, one line ``emg: ...`` on standard
error, no traceback, and the recording it was given left as it was."""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import emg
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.settings import check_duration, settings_to_dict
from emg.cli import main
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError
from emg.io.csv_format import write_emg_csv
from emg.io.open_recording import open_recording
from emg.recording import Recording

EXAMPLE = Path(__file__).parent.parent / "recordings" / "examples" / "hip-thrust-synthetic"
DENIED = "cannot read it: permission denied (check its permissions and owner)"

#: Commands that read one recording, with the options they need besides it.
READERS = {
    "analyze": ["analyze"],
    "replay": ["replay", "--headless", "--speed", "max"],
    "report": ["report"],
    "export": ["export", "--to", "csv"],
}


def fingerprint(path: Path) -> dict[str, str]:
    """Content hash of every file under ``path`` (or of ``path``)."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def session(tmp_path: Path, **changes: Any) -> Path:
    """A copy of the example session, ``session.json`` fields changed (``analysis.chain.k``
    style keys reach into the settings)."""
    folder = tmp_path / "session"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("bids"))
    meta = json.loads((folder / "session.json").read_text())
    for key, value in changes.items():
        *parents, last = key.split(".")
        target = meta
        for part in parents:
            target = target[part]
        target[last] = value
    (folder / "session.json").write_text(json.dumps(meta, indent=1))
    return folder


def csv_set(tmp_path: Path, seconds: float = 8.0, name: str = "set.csv") -> Path:
    recording = open_recording(EXAMPLE)
    n = round(seconds * recording.sample_rate)
    path = tmp_path / name
    write_emg_csv(path, Recording(recording.data[:n], recording.sample_rate, recording.channels))
    return path


def slow_csv(tmp_path: Path) -> Path:
    time = np.arange(1000) / 100.0
    path = tmp_path / "slow.csv"
    columns = np.column_stack([time, np.sin(time), np.cos(time)])
    np.savetxt(path, columns, delimiter=",", header="time,glute,hamstring", comments="")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(argv)
    return status, capsys.readouterr().err


def assert_one_line(status: int, err: str, expected: str) -> None:
    assert 1 <= status <= 3, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("emg: ") and "Traceback" not in err
    assert expected in lines[0], lines[0]


# --- settings, from the command line or from session.json ------------------------------------

OPTION_CASES = {
    "--highpass 1000": (
        ["--highpass", "1000"],
        "command line: --highpass: the band-pass lower edge (1000 Hz) must be below its upper "
        "edge (lowpass_hz, 450 Hz)",
    ),
    "--lowpass -1": (
        ["--lowpass", "-1"],
        "command line: --lowpass: the band-pass upper edge must be above 0 Hz and at most "
        "50000 Hz, got -1 Hz",
    ),
    "--hold-ms 1e12": (
        ["--hold-ms", "1e12"],
        "command line: --hold-ms: the onset hold time must be from 1 ms to 5 s, got 1e+09 s",
    ),
    "-k -5": (
        ["-k", "-5"],
        "command line: -k: the onset threshold (baseline SDs) must be above 0 and at most 50, "
        "got -5",
    ),
    "--envelope-ms 1": (
        ["--envelope-ms", "1"],
        "command line: --envelope-ms: the RMS envelope window must be from 25 ms to 250 ms, "
        "got 1 ms",
    ),
    "--highpass above the rate's upper edge": (
        ["--highpass", "950", "--lowpass", "5000"],
        "command line: --highpass: the band-pass lower edge (950 Hz) must be below its upper "
        "edge, which is 900 Hz at 2000 Hz sampling",
    ),
    "--margin-ms 1e9": (
        ["--margin-ms", "1e9"],
        "command line: --margin-ms: the simultaneity margin must be from 0 ms to 1000 ms",
    ),
    "--margin-ms -5": (
        ["--margin-ms=-5"],
        "command line: --margin-ms: the simultaneity margin must be from 0 ms to 1000 ms, "
        "got -5 ms",
    ),
    "--flag 0/3": (["--flag", "0/3"], "command line: --flag: the flag count (N of N/M) must be"),
    "--flag 3/2": (
        ["--flag", "3/2"],
        "command line: --flag: the flag needs count <= window, got 3 of 2",
    ),
    "--mvc glute=-5uv": (
        ["--mvc", "glute=-5uv", "--mvc", "hamstring=300uv"],
        "command line: --mvc: glute=-5uv: an MVC amplitude is a positive number of microvolts",
    ),
    # it named the setting (normalisation.mvc_uv.glute), and 1e9uv was "not a number"
    "--mvc glute=1e9uv": (
        ["--mvc", "glute=1e9uv", "--mvc", "hamstring=300uv"],
        "command line: --mvc glute: the MVC amplitude must be above 0 and at most 1e+06 uV, "
        "got 1000000000.0",
    ),
    "--mvc glute=abc": (
        ["--mvc", "glute=abc", "--mvc", "hamstring=300uv"],
        "command line: --mvc: glute=abc: no such file or folder (an MVC is a calibration recording",
    ),
}

SESSION_CASES = {
    "sample_rate 1": (
        {"sample_rate": 1},
        "session: sampled at 1 Hz; surface EMG analysis needs at least 200 Hz",
    ),
    "hold_s": (
        {"analysis.chain.hold_s": 1e9},
        "session.json: field 'analysis.chain.hold_s': the onset hold time must be from 1 ms "
        "to 5 s, got 1e+09 s",
    ),
    "highpass_hz": (
        {"analysis.chain.highpass_hz": 1000},
        "session.json: field 'analysis.chain.highpass_hz': the band-pass lower edge (1000 Hz) "
        "must be below its upper edge (lowpass_hz, 450 Hz)",
    ),
    "bandpass_order 1000": (
        {"analysis.chain.bandpass_order": 1000},
        "session.json: field 'analysis.chain.bandpass_order': the band-pass order must be from "
        "2 to 12, got 1000",
    ),
    "k -5": (
        {"analysis.chain.k": -5},
        "session.json: field 'analysis.chain.k': the onset threshold (baseline SDs) must be "
        "above 0 and at most 50, got -5",
    ),
    "analysis [1]": (
        {"analysis": [1]},
        "session.json: field 'analysis': the settings must be a mapping of parts, got list",
    ),
    "t0 abc": (
        {"t0": "abc"},
        "session.json: field 't0': the time of the first sample must be a number of seconds",
    ),
    "flag window 0": (
        {"analysis.exercise.flag_window": 0},
        "session.json: field 'analysis.exercise.flag_window': the flag window (M of N/M) must "
        "be from 1 to 20, got 0",
    ),
}


@pytest.mark.parametrize("command", ["analyze", "replay", "report"])
@pytest.mark.parametrize("case", OPTION_CASES)
def test_bad_option_is_one_line(
    command: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options, expected = OPTION_CASES[case]
    path = csv_set(tmp_path)
    before = fingerprint(path)
    out = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([*READERS[command], str(path), *out, *options], capsys)
    assert_one_line(status, err, expected)
    assert status == 2 and fingerprint(path) == before
    assert not (tmp_path / "r.html").exists()


#: export does not analyse: of the session cases only those about the recording itself apply
SESSION_COMMANDS = [
    (command, case)
    for command in READERS
    for case in SESSION_CASES
    if command != "export" or case in ("t0 abc", "sample_rate 1")
]


@pytest.mark.parametrize(("command", "case"), SESSION_COMMANDS)
def test_bad_recorded_setting_is_one_line_and_the_session_is_kept(
    command: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changes, expected = SESSION_CASES[case]
    folder = session(tmp_path, **changes)
    before = fingerprint(folder)
    out = [str(tmp_path / "out.csv")] if command == "export" else []
    out += ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([*READERS[command], str(folder), *out], capsys)
    if command == "export" and case == "sample_rate 1":
        # a 1 Hz session is still exported: its samples are not lost
        assert status == 0 and (tmp_path / "out.csv").is_file()
        return
    assert_one_line(status, err, expected)
    assert fingerprint(folder) == before


def test_settings_refused_alike_in_code_and_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SettingError) as raised:
        ChainConfig(hold_s=1e9)
    assert str(raised.value) == "hold_s: the onset hold time must be from 1 ms to 5 s, got 1e+09 s"
    status, err = run(["analyze", str(csv_set(tmp_path)), "--hold-ms", "1e12"], capsys)
    assert status == 2
    assert err.strip().endswith(f"--hold-ms: {raised.value.reason}")
    with pytest.raises(SettingError, match="bandpass_order: the band-pass order must be even"):
        AnalysisConfig(chain=ChainConfig(bandpass_order=3))
    with pytest.raises(SettingError, match=r"--duration: the recording length must be above 0"):
        check_duration(float("nan"))
    assert check_duration(12) == 12.0
    assert settings_to_dict(AnalysisConfig())["chain"]["k"] == 3.0


# --- recordings the analysis cannot run on ----------------------------------------------------


@pytest.mark.parametrize("command", ["analyze", "replay", "report"])
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (slow_csv, "slow.csv: sampled at 100 Hz; surface EMG analysis needs at least 200 Hz"),
        (
            lambda tmp: csv_set(tmp, seconds=0.001, name="two.csv"),
            "two.csv: too little data for a baseline: 0.00 s (2 samples) recorded, at least "
            "3 s needed",
        ),
    ],
    ids=["100 Hz", "2 rows"],
)
def test_recording_too_slow_or_short_says_what_is_needed(
    command: str,
    make: Callable[[Path], Path],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make(tmp_path)
    out = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([*READERS[command], str(path), *out], capsys)
    assert_one_line(status, err, expected)


# --- damaged files --------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(READERS))
def test_value_beyond_float32_is_refused_before_anything_is_written(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    lines = path.read_text().splitlines()
    lines[10] = lines[10].split(",")[0] + ",1e39," + lines[10].split(",")[2]
    path.write_text("\n".join(lines) + "\n")
    out = [str(tmp_path / "out.csv")] if command == "export" else []
    out += ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([*READERS[command], str(path), *out], capsys)
    assert_one_line(status, err, "line 11, column 'glute': sample 1e+39 is beyond the range")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", [*READERS, "batch"])
def test_unreadable_file_is_one_line(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = csv_set(folder)
    real_open = io.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    # as root chmod does not stop reading: the open fails as it would for anyone else
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    path.chmod(0)
    try:
        if command == "batch":  # one recording in the folder: analysed in this process
            argv = ["analyze", str(folder), "--out", str(tmp_path / "reps.csv")]
            status, err = run(argv, capsys)
            assert status == 1 and f"{path}: {DENIED}" in err and "Traceback" not in err
            return
        out = [str(tmp_path / "out.csv")] if command == "export" else []
        out += ["--out", str(tmp_path / "r.html")] if command == "report" else []
        status, err = run([*READERS[command], str(path), *out], capsys)
        assert_one_line(status, err, f"{path}: {DENIED}")
    finally:
        path.chmod(0o644)


# --- smaller cases --------------------------------------------------------------------------


def test_export_without_an_ending_writes_what_analyze_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = csv_set(tmp_path)
    for kind, ending in (("csv", ".csv"), ("bdf", ".bdf")):
        status = main(["export", str(source), "--to", kind, str(tmp_path / f"out-{kind}")])
        assert status == 0
        written = tmp_path / f"out-{kind}{ending}"
        assert written.is_file() and f"wrote {written}" in capsys.readouterr().out
        assert main(["analyze", str(written), "--json"]) == 0
    status, err = run(["export", str(source), "--to", "bdf", str(tmp_path / "x.edf")], capsys)
    assert_one_line(status, err, "--to bdf writes .bdf files, not '.edf': name the output x.bdf")


def test_empty_folder_says_it_has_no_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    status, err = run(["analyze", str(empty)], capsys)
    assert_one_line(status, err, f"{empty}: no recording found in this folder (looked for")


def test_validate_compare_names_the_bench_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import emg.validation.peers

    monkeypatch.setattr(emg.validation.peers, "available_peers", dict)
    status, err = run(["validate", "--compare", "--seeds", "1"], capsys)
    assert_one_line(
        status,
        err,
        "--compare runs NeuroKit2's and BioSPPy's onset detectors, and neither is "
        "installed: python -m pip install -e '.[bench]'",
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--fs", "100"], "command line: --fs: must be from 200 to 20000 Hz, got 100"),
        (["--reps", "0"], "command line: --reps: must be from 1 to 5000, got 0"),
        (["--cramp-rep", "-3"], "command line: --cramp-rep: must be 0 (none)"),
        (["--seeds", "0"], "command line: --seeds: give at least one seed"),
        # a billion grew to 24 GB before it was killed
        (["--seeds", "1000000000"], "command line: --seeds: must be at most 1000 per cell"),
        (["-k", "-5"], "command line: -k: the onset threshold (baseline SDs) must be above 0"),
    ],
)
def test_validate_bad_grid_is_one_line(
    options: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(["validate", "--snr-db", "10", "--lead-ms", "80", *options], capsys)
    assert_one_line(status, err, expected)


def test_batch_hint_names_the_checkout_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, package=None: None if name == "distributed" else real(name, package),
    )
    csv_set(tmp_path, name="a.csv")
    csv_set(tmp_path, name="b.csv")
    status, err = run(["analyze", str(tmp_path), "--out", str(tmp_path / "reps.csv")], capsys)
    assert_one_line(status, err, "python -m pip install -e '.[batch]' in the toolkit's checkout")
    assert "emg-toolkit[" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--out", "{gone}"],
        ["export", "{csv}", "--to", "bids", "{gone}/ds"],
        ["analyze", "{folder}", "--out", "{gone}/reps.csv"],
    ],
)
def test_an_output_that_cannot_be_written_is_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = csv_set(folder)
    before = fingerprint(path)
    blocker = tmp_path / "a-file"  # where a folder would have to be made
    blocker.write_text("kept\n")
    values = {"gone": str(blocker / "below"), "csv": str(path), "folder": str(folder)}
    status, err = run([a.format(**values) for a in argv], capsys)
    assert_one_line(status, err, str(blocker))
    assert fingerprint(path) == before and blocker.read_text() == "kept\n"


def test_an_output_that_would_replace_a_recording_is_refused_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    folder = session(tmp_path)
    capture = tmp_path / "capture.txt"
    capture.write_text("00 01\n")
    kept = {p: fingerprint(p) for p in (path, folder, capture)}
    replaced = "would replace the recording it is made from"
    inside = "is inside the folder of the recording it is made from, which is left as recorded"
    in_session = "is inside a recorded session's folder"
    for argv, expected in [
        (["report", str(path), "--out", str(path)], f"{path}: {replaced}"),
        (["export", str(path), "--to", "csv", str(path)], f"{path}: {replaced}"),
        (["report", str(folder), "--out", str(folder / "samples.f32")], inside),
        (["export", str(folder), "--to", "bids", str(folder)], replaced),
        (["export", str(folder), "--to", "bids", str(folder / "other")], inside),
        (["export", str(folder), "--to", "csv", str(folder / "bids.csv")], inside),
        (["export", str(path), "--to", "bids", str(folder / "bids")], in_session),
        (["export", str(path), "--to", "bids", str(folder)], "is a recorded session's folder"),
        (["synth", str(folder / "events.jsonl")], in_session),
        (["decode", "emg-stream-v1", str(capture), "--out", str(capture)], replaced),
    ]:
        status, err = run(argv, capsys)
        assert_one_line(status, err, expected)
    assert {p: fingerprint(p) for p in kept} == kept
    # elsewhere, the same commands write as before
    out = tmp_path / "out"
    out.mkdir()
    assert run(["report", str(path), "--out", str(out / "r.html")], capsys)[0] == 0
    assert run(["export", str(folder), "--to", "csv", str(out / "copy.csv")], capsys)[0] == 0


def test_a_session_s_own_bids_export_can_be_made_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the command a failed export at the end of a recording tells the user to run; it was
    # refused as "would replace the recording it is made from"
    folder = session(tmp_path)
    kept = fingerprint(folder)
    own = folder / "bids"
    argv = ["export", str(folder), "--to", "bids", str(own)]
    status, err = run(argv, capsys)
    assert status == 0, err
    made = fingerprint(own)
    assert any(p.name.endswith("_emg.bdf") for p in own.rglob("*"))
    # again: the dataset's files are kept unless --overwrite, then written anew
    status, err = run(argv, capsys)
    assert_one_line(status, err, "exists already: pass --overwrite")
    assert run([*argv, "--overwrite"], capsys)[0] == 0
    assert fingerprint(own) == made
    # the session's own files are as they were
    assert {p: q for p, q in fingerprint(folder).items() if own not in Path(p).parents} == kept


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--snr-db", "nan"], "snr_db must be from -100 to 100, got nan"),
        (["--snr-db", "1e9"], "snr_db must be from -100 to 100"),
        (["--reps", "100000000"], "reps must be from 1 to 5000"),
        (["--fs", "1e12"], "fs must be from 200 to 20000 Hz"),
        (["--noise-uv", "-1"], "noise_uv must be from 0.01"),
        (["--crosstalk", "2"], "crosstalk must be from 0 to 0.9"),
        (["--ramp-ms", "nan"], "ramp_s must be from 0 to 1"),
    ],
)
def test_synth_refuses_values_it_cannot_simulate(
    options: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "set.csv"
    status, err = run(["synth", str(out), *options], capsys)
    assert_one_line(status, err, expected)
    assert not out.exists()


def test_a_batch_table_never_replaces_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    first, second = csv_set(folder, name="a.csv"), csv_set(folder, name="b.csv")
    kept = fingerprint(folder)
    argv = ["analyze", str(folder), "--workers", "1", "--out"]
    status, err = run([*argv, str(first)], capsys)
    assert_one_line(status, err, f"{first}: is a recording, which the table would replace")
    assert fingerprint(folder) == kept
    # an earlier table in the folder is written again, and not read as a recording
    table = folder / "reps.csv"
    assert run([*argv, str(table)], capsys)[0] == 0
    assert run([*argv, str(table)], capsys)[0] == 0
    assert fingerprint(first)[str(first)] == kept[str(first)] and second.exists()


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_an_empty_athlete_name_is_refused_not_ignored(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    out = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([command, str(path), "--athlete", " ", *out], capsys)
    assert_one_line(status, err, "command line: --athlete: ' ' is not a name")
    assert not (tmp_path / "r.html").exists()


# --- values an option or a file cannot mean -------------------------------------------------


def test_validate_snr_db_takes_what_the_generator_simulates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    grid = ["validate", "--lead-ms", "80", "--seeds", "1", "--reps", "2", "--cramp-rep", "0"]
    # a negative SNR (noise above the muscle) is simulated, alone or in a list
    for snr in (["--snr-db=-5"], ["--snr-db", "-5,-10"]):
        status, err = run([*grid, *snr, "--json"], capsys)
        assert status == 0, err
    status, err = run([*grid, "--snr-db=-500"], capsys)
    assert_one_line(status, err, "command line: --snr-db: must be from -100 to 100, got -500")
    assert status == 2 and "non-negative integer" not in err
    status, err = run(["validate", "--snr-db", "10", "--lead-ms=-20000"], capsys)
    assert_one_line(status, err, "command line: --lead-ms: -20000 ms cannot be simulated")


@pytest.mark.parametrize("command", list(READERS))
def test_a_column_named_twice_is_named_with_its_file(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    lines = path.read_text().splitlines()
    lines[0] = "time,glute,glute"
    path.write_text("\n".join(lines) + "\n")
    before = fingerprint(path)
    out = [str(tmp_path / "out.csv")] if command == "export" else []
    out += ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([*READERS[command], str(path), *out], capsys)
    assert_one_line(status, err, f"{path}, line 1, column 'glute': appears twice in the header")
    assert status == 2 and "glute.1" not in err and fingerprint(path) == before


def test_analyze_says_what_is_wrong_with_its_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    for argv in (["analyze", ""], ["analyze", str(path), ""]):
        status, err = run(argv, capsys)
        assert_one_line(status, err, "command line: an empty path ('') names no recording")
        assert status == 2 and "several recordings" not in err
    # --workers sizes a cluster one recording does not need: it is analysed as alone
    status, err = run(["analyze", "--workers", "3", str(path), "--json"], capsys)
    assert status == 0, err
    status, err = run(["analyze", "--scheduler", "tcp://127.0.0.1:1", str(path)], capsys)
    assert_one_line(status, err, "--scheduler analyses on a Dask cluster into a table: give --out")


@pytest.mark.parametrize(
    "argv",
    [
        ["report", ""],
        ["export", "", "out.csv"],
        ["replay", "", "--headless"],
        ["decode", "x", ""],
        ["validate", "--truth", "x.truth.json", ""],
    ],
)
def test_an_empty_input_path_names_no_recording(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """'' is refused as a path, not taken for the current folder (a report or an export of it
    said it would replace the recording it is made from)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:  # refused as the command line is read
        main(argv)
    status, err = int(stop.value.code or 0), capsys.readouterr().err
    assert_one_line(status, err, "an empty path ('') names no recording")
    assert status == 2 and list(tmp_path.iterdir()) == []


def test_live_replay_of_an_empty_path_names_no_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    status, err = run(["live", "--source", "replay", "", "--no-record"], capsys)
    assert_one_line(status, err, "--source replay: an empty path ('') names no recording")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["report", "SET", "--out", "victim.csv"], "--out: a report is written as .html or .htm"),
        (["report", "SET", "--out", "r.pdf"], "which 'r.pdf' does not end in"),
        (["synth", "set.truth.json"], "OUT.csv: a synthetic set is written as .csv"),
        (["synth", "set.bdf"], "which 'set.bdf' does not end in"),
    ],
)
def test_an_output_named_for_another_format_is_refused(
    argv: list[str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A report is HTML and a synthetic set CSV: named otherwise they overwrote a recording
    (report --out victim.csv) or a truth file with another format, exit 0."""
    path = csv_set(tmp_path)
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "victim.csv"
    shutil.copy(path, victim)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    status, err = run([str(path) if a == "SET" else a for a in argv], capsys)
    assert_one_line(status, err, expected)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["validate", "--family", "own", "--seeds", "100000"], "--seeds: must be at most 1000"),
        (["validate", "--family", "own", "--reps", "5001"], "--reps: must be from 1 to 5000"),
    ],
)
def test_family_runs_it_cannot_make_are_refused_at_once(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the project's grid (above): 100,000 seeds printed nothing for minutes, 5,001 reps
    was a traceback."""
    status, err = run(argv, capsys)
    assert_one_line(status, err, expected)
    assert status == 2


def test_the_library_refuses_an_empty_path() -> None:
    with pytest.raises(EmgInputError, match=r"an empty path \(''\) names no recording"):
        emg.read("")
    with pytest.raises(EmgInputError, match=r"an empty path \(''\) names no recording"):
        emg.analyze("")


def test_profiles_from_a_folder_that_is_not_there_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexist"
    status, err = run(["profiles", "--dir", str(missing)], capsys)
    assert_one_line(status, err, f"{missing}: no such folder of sensor profiles")
    assert status == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    status, err = run(["profiles", "--dir", str(empty)], capsys)
    assert_one_line(status, err, f"{empty}: no sensor profiles (*.toml files) in this folder")


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "1e+12"])
def test_scan_refuses_a_timeout_that_is_not_a_time(
    timeout: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = "must be a number of seconds above 0 and at most 600, got " + timeout
    status, err = run(["scan", "--timeout", timeout], capsys)
    assert_one_line(status, err, f"command line: --timeout: {expected}")
    assert status == 2
    # the search for an LSL stream too (-1 and 1e12 s searched for ever, deaf to Ctrl-C)
    argv = ["record", "--source", "lsl:nosuch", "--scan-timeout", timeout, "--out", "unused"]
    status, err = run(argv, capsys)
    assert_one_line(status, err, f"command line: --scan-timeout: {expected}")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--loss", "2"], "--loss: must be a probability from 0 to below 1, got 2"),
        (["--loss", "nan"], "--loss: must be a probability from 0 to below 1, got nan"),
        (["--jitter-ms", "-5"], "--jitter-ms: the mean extra delay must be 0 ms or more, got -5"),
        (["--drift-ppm", "nan"], "--drift-ppm: the clock drift must be from -1000 to 1000 ppm"),
        (["--drift-ppm", "1e6"], "--drift-ppm: the clock drift must be from -1000 to 1000 ppm"),
        (["--disconnect-at", "-3"], "--disconnect-at: a stream time must be 0 s or later"),
        (["--duration", "-1"], "--duration: must be a number of seconds above 0, got -1"),
        (["--duration", "inf"], "--duration: must be a number of seconds above 0, got inf"),
        (["--count", "1000000"], "--count: must be from 1 to 8 sensors"),
        (["--count", "0"], "--count: must be from 1 to 8 sensors"),
    ],
)
def test_emulate_refuses_what_it_cannot_emulate_before_opening_anything(
    options: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # nothing to open here: a value that got through would fail on the transport, not here
    argv = ["emulate", "emg-stream-v1", "--host-transport", "no-such-transport", "--duration"]
    status, err = run([*argv, "1", *options], capsys)
    assert_one_line(status, err, f"command line: {expected}")
    assert status == 2


def test_lead_from_edges_with_a_refinement_without_edges_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import emg

    path = csv_set(tmp_path)
    status, err = run(
        ["analyze", str(path), "--refinement", "bonato", "--lead-from", "edges"], capsys
    )
    assert_one_line(
        status,
        err,
        "command line: --lead-from edges with --refinement bonato: 'edges' moves the lead "
        "towards the fitted rising edges",
    )
    assert status == 2
    # the same in code, naming the setting; steady is what bonato gives, and is kept
    with pytest.raises(SettingError, match=r"^reps\.lead: 'edges' moves the lead"):
        emg.analyze(path, refinement="bonato", lead="edges")
    status, err = run(
        ["analyze", str(path), "--refinement", "bonato", "--lead-from", "steady", "--json"], capsys
    )
    assert status == 0, err


def test_a_sidecar_rate_that_contradicts_the_time_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    rate = json.loads((EXAMPLE / "session.json").read_text())["sample_rate"]
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps({"SamplingFrequency": rate / 2}))
    before = fingerprint(tmp_path)
    status, err = run(["analyze", str(path)], capsys)
    assert_one_line(
        status,
        err,
        f"{sidecar}: field 'SamplingFrequency': {rate / 2:g} Hz, but set.csv is sampled at "
        f"{rate:g} Hz",
    )
    assert status == 2 and fingerprint(tmp_path) == before
    sidecar.write_text(json.dumps({"SamplingFrequency": rate * (1 + 1e-5)}))  # rounding
    assert run(["analyze", str(path), "--json"], capsys)[0] == 0


@pytest.mark.parametrize("command", list(READERS))
def test_session_samples_described_as_int16_are_refused_and_kept(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = session(tmp_path, **{"samples.dtype": "int16"})
    before = fingerprint(folder)
    out = [str(tmp_path / "out.csv")] if command == "export" else []
    out += ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([*READERS[command], str(folder), *out], capsys)
    assert_one_line(
        status,
        err,
        f"{folder / 'session.json'}: field 'samples.dtype': 'int16', but samples.f32 is read "
        "as float32 little-endian only",
    )
    assert status == 2 and fingerprint(folder) == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "r.html").exists()


# --- BIDS labels, plot files and LSL names ----------------------------------------------------


@pytest.mark.parametrize("kind", ["bdf", "csv"])
def test_a_bids_option_given_to_a_file_export_is_refused(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was ignored without a word
    path = csv_set(tmp_path)
    out = tmp_path / f"out.{kind}"
    for option in (["--authors", "A. Lab"], ["--task", "hipthrust"], ["--license", "CC0"]):
        status, err = run(["export", str(path), "--to", kind, str(out), *option], capsys)
        assert_one_line(
            status, err, f"command line: {option[0]} applies to --to bids only: a {kind.upper()}"
        )
        assert not out.exists()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--subject", "0-1"], "--subject '0-1' is not a BIDS subject label"),
        (["--subject", "../x"], "--subject '../x' is not a BIDS subject label"),
        (["--subject", ""], "--subject '' is not a BIDS subject label"),
        (["--task", "hip_thrust"], "--task 'hip_thrust' is not a BIDS task label"),
        # too long for a file name: "File name too long" from the system, or "no such file"
        (
            ["--subject", "a" * 300],
            "command line: --subject 'aaaaaaaaaaaaaaaa...' is 300 characters long: a BIDS "
            "subject label may have at most 64 here, which keeps every file name of the dataset "
            "under 255 bytes",
        ),
        (["--task", "t" * 65], "command line: --task 'tttttttttttttttt...' is 65 characters"),
    ],
)
def test_export_refuses_a_bids_label_it_would_rewrite(
    options: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    dataset = tmp_path / "ds"
    assert (
        run(["export", str(path), "--to", "bids", str(dataset), "--subject", "01"], capsys)[0] == 0
    )
    before = fingerprint(dataset)
    status, err = run(["export", str(path), "--to", "bids", str(dataset), *options], capsys)
    assert_one_line(status, err, expected)
    assert status == 2 and fingerprint(dataset) == before


@pytest.mark.parametrize("command", ["record", "live"])
def test_record_refuses_a_subject_its_export_would_refuse_before_recording(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sessions"
    extra = ["--record"] if command == "live" else []
    argv = [command, "--source", "synthetic", "--duration", "1", "--out", str(out), *extra]
    status, err = run([*argv, "--subject", "../x"], capsys)
    assert_one_line(status, err, "command line: --subject '../x' is not a BIDS subject label")
    assert status == 2 and not out.exists()


def test_history_refuses_a_plot_file_matplotlib_cannot_write_before_printing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "athletes.sqlite"
    assert main(["analyze", str(csv_set(tmp_path)), "--athlete", "Dana", "--db", str(db)]) == 0
    for name in ("p.txt", "p.csv"):
        capsys.readouterr()
        status = main(["history", "Dana", "--db", str(db), "--plot", str(tmp_path / name)])
        captured = capsys.readouterr()
        assert_one_line(status, captured.err, f"command line: --plot '{tmp_path / name}'")
        assert "cannot write '.txt' files" in captured.err or name == "p.csv"
        assert status == 2 and captured.out == "" and not (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["", "  "])
def test_record_refuses_an_empty_lsl_name(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sessions"
    argv = ["record", "--source", "synthetic", "--duration", "1", "--out", str(out)]
    status, err = run([*argv, "--lsl", name], capsys)
    assert_one_line(status, err, f"command line: --lsl '{name}' is empty")
    assert status == 2 and not out.exists()


# --- a rest period, an MVC trial and a JSON file beside the recording -----------------------


@pytest.mark.parametrize("command", ["analyze", "replay", "report"])
@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("0-100", "the rest period 0-100 s ends after the end of {path}, which is 8.00 s long"),
        ("7.5-8.5", "the rest period 7.5-8.5 s ends after the end of {path}"),
        ("40-50", "the rest period 40-50 s starts after the end of {path}, which is 8.00 s"),
        ("8-9", "the rest period 8-9 s starts after the end of {path}"),
    ],
)
def test_a_rest_period_beyond_the_recording_says_so(
    command: str, rest: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "too little data for a baseline: 8.00 s recorded, at least 100 s needed"."""
    path = csv_set(tmp_path)
    out = ["--out", str(tmp_path / "r.html")] if command == "report" else []
    status, err = run([*READERS[command], str(path), "--rest", rest, *out], capsys)
    line = f"emg: error: command line: --rest: {expected.format(path=path)}"
    assert_one_line(status, err, line)
    assert status == 2 and err.startswith(line)
    assert err.strip().endswith("; give a quiet period within 0-8.00 s")
    assert not (tmp_path / "r.html").exists()


def test_a_rest_period_within_the_recording_and_one_ending_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_set(tmp_path)
    assert run(["analyze", str(path), "--rest", "0-8", "--json"], capsys)[0] == 0
    with pytest.raises(SystemExit) as stop:  # refused as the command line is read
        main(["analyze", str(path), "--rest", "5-3"])
    status, err = int(stop.value.code or 0), capsys.readouterr().err
    assert_one_line(status, err, "argument --rest: period end must be after its start: '5-3'")
    assert status == 2


def test_a_recorded_rest_period_beyond_the_recording_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = session(tmp_path, **{"analysis.chain.rest": [100, 200]})
    status, err = run(["analyze", str(folder)], capsys)
    assert_one_line(
        status,
        err,
        f"{folder / 'session.json'}: field 'analysis.chain.rest': the rest period 100-200 s "
        f"starts after the end of {folder}, which is",
    )
    # given on the command line, the rest period replaces the recorded one
    assert run(["analyze", str(folder), "--rest", "0-2", "--json"], capsys)[0] == 0


def test_an_mvc_trial_with_no_signal_names_the_file_and_the_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "--mvc: MVC amplitude of glute must be > 0 uV, got 0", naming no file."""
    path = csv_set(tmp_path)
    recording = open_recording(path)
    flat = tmp_path / "flat.csv"
    data = recording.data.copy()
    data[:, [c.muscle for c in recording.channels].index("glute")] = 0.0
    write_emg_csv(flat, Recording(data, recording.sample_rate, recording.channels))
    for given, where in ((f"{flat}", ""), (f"{flat}:1-3", " from 1 to 3 s")):
        argv = ["analyze", str(path), "--mvc", f"glute={given}", "--mvc", f"hamstring={flat}"]
        expected = (
            f"command line: --mvc: glute={given}: channel 'glute' of {flat} has no "
            f"signal{where} (MVC amplitude 0 uV: flat, or its electrode was off); give a trial "
            "in which the muscle contracts, or a value (glute=310uv)"
        )
        status, err = run(argv, capsys)
        assert_one_line(status, err, expected)
        assert status == 2 and err.strip() == f"emg: error: {expected}"
    # its hamstring has a signal, and gives an MVC
    argv = ["analyze", str(path), "--mvc", "glute=300uv", "--mvc", f"hamstring={flat}"]
    assert run([*argv, "--json"], capsys)[0] == 0


def test_the_analysis_written_beside_the_recording_is_not_read_as_its_sidecar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``emg analyze x.csv --json > x.json``: the shell makes x.json (empty) before the
    analysis runs, which then read it as x.csv's sidecar ("not valid JSON"), as the next
    analysis read the summary written there."""
    path = csv_set(tmp_path, name="x.csv")
    beside = path.with_suffix(".json")
    beside.write_text("")
    status = main(["analyze", str(path), "--json"])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    beside.write_text(printed.out)
    summary = json.loads(beside.read_text())
    status, err = run(["analyze", str(path), "--json"], capsys)
    assert status == 0 and err == ""
    assert beside.read_text() == printed.out and summary["reps"]
    # a file there that is no JSON at all: one line saying what it was taken for
    beside.write_text('{"reps": [1,\n')
    status, err = run(["analyze", str(path)], capsys)
    assert_one_line(
        status,
        err,
        f"{beside}, line 2: taken for the sidecar of x.csv (same name), but not valid "
        "JSON (Expecting value); correct it, or move it away if it is not x.csv's sidecar",
    )
    assert status == 2


def test_synth_keeps_an_existing_set_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "keep.csv"
    assert main(["synth", str(out), "--reps", "2"]) == 0
    kept = out.read_bytes(), out.with_suffix(".truth.json").read_bytes()
    capsys.readouterr()
    assert main(["synth", str(out), "--reps", "3", "--seed", "5"]) == 2
    assert capsys.readouterr().err == (
        f"emg: error: {out}: exists already: pass --overwrite to replace it, or name another "
        "output\n"
    )
    assert (out.read_bytes(), out.with_suffix(".truth.json").read_bytes()) == kept
    assert main(["synth", str(out), "--reps", "3", "--seed", "5", "--overwrite"]) == 0
    assert out.read_bytes() != kept[0]
