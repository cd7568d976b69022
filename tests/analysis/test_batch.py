"""Batch analysis (``emg analyze PATHS... --out TABLE``): on Dask equals file by file, failures
reported, paths expanded as documented, and the table's columns built as documented."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from emg.analysis.batch import (
    COLUMNS,
    SessionInfo,
    SessionRows,
    rep_rows,
    reps_table,
    session_info,
    set_markers,
    set_of,
    subject_of,
)
from emg.cli import build_parser, main
from emg.commands import batch
from emg.events import Event
from emg.io.batch_inputs import expand_inputs
from emg.io.csv_format import write_emg_csv
from emg.io.open_recording import open_recording
from emg.io.rep_table import failures_path, read_table
from emg.io.session_writer import SessionWriter
from emg.sources.synthetic import SynthConfig, generate_session

distributed = pytest.importorskip("distributed")

N_CSV = 20
SUBJECT = "07"
SET_2_AT = 11.0  # between the 3rd and 4th rep of the native sessions


def _synthetic_csv(path: Path, index: int) -> None:
    config = SynthConfig(
        reps=4,
        seed=100 + index,
        lead_ms=-150.0 + 15.0 * index,
        snr_db=(20.0, 10.0, 15.0)[index % 3],
    )
    write_emg_csv(path, generate_session(config).recording)


def _native_session(folder: Path, seed: int) -> None:
    recording = generate_session(SynthConfig(reps=6, seed=seed, lead_ms=-90.0)).recording
    writer = SessionWriter(
        folder,
        recording.channels,
        recording.sample_rate,
        metadata={"subject": SUBJECT, "exercise": "hip-thrust"},
    )
    for block in recording.blocks(4000):
        writer.write_block(block)
    writer.write_events(
        [
            Event(0.5, "mark", "set 1", data={"set": 1}),
            Event(SET_2_AT, "mark", "set 2", data={"set": 2}),
        ]
    )
    writer.close()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 synthetic CSV sets (other seeds, leads and SNRs), 2 native sessions with a subject
    and set markers, and one corrupt CSV, in nested folders."""
    root = tmp_path_factory.mktemp("batch")
    for index in range(N_CSV):
        folder = root / "csv" / f"group{index % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        _synthetic_csv(folder / f"set{index:02d}.csv", index)
    for seed in (1, 2):
        _native_session(root / "sessions" / f"session{seed}", seed)
    (root / "csv" / "group1" / "corrupt.csv").write_text("time,glute\n0,1\n0.001,x\n")
    return root


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One local cluster of 2 worker processes for the module."""
    with batch.local_client(2) as dask_client:
        yield dask_client


def _options(*extra: str) -> Any:
    return batch.analysis_options(build_parser().parse_args(["analyze", "x", *extra]))


def _serial_rows(path: Path, capsys: pytest.CaptureFixture[str]) -> SessionRows:
    """The rows of one file from ``emg analyze FILE --json``, as a user would run it."""
    capsys.readouterr()
    assert main(["analyze", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    recording = open_recording(path)
    info = session_info(recording.metadata, recording.events, path)
    return SessionRows(str(path), tuple(rep_rows(str(path), summary, info)))


def test_two_workers_equal_file_by_file(
    dataset: Path, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = expand_inputs([str(dataset)])
    assert len(inputs) == N_CSV + 2 + 1
    assert len(client.scheduler_info()["workers"]) == 2
    result = batch.analyze_batch(inputs, _options(), client)

    good = [p for p in inputs if p.name != "corrupt.csv"]
    expected = reps_table(_serial_rows(p, capsys) for p in good)
    assert [s.session for s in result.sessions] == [str(p) for p in good]
    pd.testing.assert_frame_equal(result.reps, expected, check_exact=True)
    reps = result.reps
    assert list(reps.columns) == list(COLUMNS)
    assert len(reps) == 4 * N_CSV + 2 * 6
    # the sessions differ (leads, seeds), so a mix-up would show
    assert reps.groupby("session")["lead_ms"].mean().nunique() == N_CSV + 2
    assert set(reps["order"]) == {"hamstring-first", "simultaneous", "glute-first"}
    assert reps["raised_flags"].str.contains("hamstring-first").any()

    # the corrupt file: named, with the reason, and skipped
    corrupt = str(dataset / "csv" / "group1" / "corrupt.csv")
    assert [(f.session, f.error) for f in result.failures] == [
        (corrupt, f"{corrupt}, line 3, column 'glute': 'x' is not a number")
    ]

    # subject and sets of the native sessions
    native = reps[reps["session"].str.contains("sessions")]
    assert set(native["subject"]) == {SUBJECT}
    assert list(native["set"]) == [1, 1, 1, 2, 2, 2] * 2
    assert (native["start_s"][native["set"] == 2] >= SET_2_AT).all()
    assert reps[~reps["session"].str.contains("sessions")]["subject"].isna().all()


def test_command_writes_tables_and_reports_failures(
    dataset: Path, client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = client.scheduler.address
    out = tmp_path / "reps.parquet"
    capsys.readouterr()
    status = main(
        [
            "analyze",
            str(dataset / "csv"),
            str(dataset / "sessions"),
            "--out",
            str(out),
            "--scheduler",
            address,
        ]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert f"analysed {N_CSV + 2} of {N_CSV + 3} recordings" in captured.out
    assert "corrupt.csv" in captured.err and "'x' is not a number" in captured.err
    failures = read_table(failures_path(out))
    assert list(failures["session"]) == [str(dataset / "csv" / "group1" / "corrupt.csv")]
    assert "line 3" in failures["error"][0]

    expected = batch.analyze_batch(expand_inputs([str(dataset)]), _options(), client).reps
    pd.testing.assert_frame_equal(read_table(out), expected, check_exact=True)
    csv_out = tmp_path / "reps.csv"
    assert main(["analyze", str(dataset), "--out", str(csv_out), "--scheduler", address]) == 1
    from_csv = read_table(csv_out)
    pd.testing.assert_frame_equal(
        from_csv.drop(columns=["subject", "side"]),
        expected.drop(columns=["subject", "side"]),
        check_exact=True,
    )

    # options reach the workers: the same as the file alone with that option
    one = dataset / "csv" / "group0" / "set00.csv"
    assert (
        main(
            [
                "analyze",
                str(one),
                "--out",
                str(csv_out),
                "--scheduler",
                address,
                "--exercise",
                "prone-hip-extension",
            ]
        )
        == 0
    )
    assert set(read_table(csv_out)["exercise"]) == {"prone-hip-extension"}


def test_local_cluster_from_the_command_line(
    dataset: Path,
    client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sizes: list[int] = []

    @contextmanager
    def module_cluster(workers: int) -> Iterator[Any]:
        # the module's cluster stands in for a new one (one cluster start per module)
        sizes.append(workers)
        yield client

    monkeypatch.setattr(batch, "local_client", module_cluster)
    out = tmp_path / "sessions.csv"
    pattern = str(dataset / "sessions" / "session*")
    assert main(["analyze", pattern, "--out", str(out), "--workers", "3"]) == 0
    assert "on 2 local workers" in capsys.readouterr().out  # no more workers than inputs
    assert main(["analyze", pattern, "--out", str(out)]) == 0
    assert sizes == [2, min(2, batch.default_workers())]
    assert len(read_table(out)) == 12
    assert read_table(failures_path(out)).empty


def test_one_recording_runs_without_dask(
    dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_find_spec = importlib.util.find_spec

    def without_dask(name: str, package: str | None = None) -> Any:
        return None if name == "distributed" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_dask)
    one = dataset / "csv" / "group0" / "set00.csv"
    capsys.readouterr()
    assert main(["analyze", str(one), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reps"]
    out = tmp_path / "one.csv"
    assert main(["analyze", str(one), "--out", str(out)]) == 0
    assert "in this process" in capsys.readouterr().out
    assert len(read_table(out)) == 4
    # several recordings need Dask, and say how to get it
    assert main(["analyze", str(dataset / "sessions"), "--out", str(out)]) == 2
    assert ".[batch]" in capsys.readouterr().err


def test_batch_option_errors(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(dataset / "sessions")
    cases = {
        (folder,): "give --out",
        (folder, "--out", str(tmp_path / "x.json")): "name it .parquet or .csv",
        (folder, "--out", str(tmp_path / "x.csv"), "--json"): "--json",
        (
            folder,
            "--out",
            str(tmp_path / "x.csv"),
            "--workers",
            "2",
            "--scheduler",
            "tcp://h:1",
        ): "give one of them",
        (str(tmp_path / "nothing*.csv"), "--out", str(tmp_path / "x.csv")): "matches",
        (str(tmp_path / "missing.csv"), folder, "--out", str(tmp_path / "x.csv")): "no such",
        (folder, "--out", str(tmp_path / "x.csv"), "--exercise", "custom"): "expected-order",
    }
    for args, message in cases.items():
        capsys.readouterr()
        assert main(["analyze", *args]) == 2, args
        assert message in capsys.readouterr().err, args
    assert not (tmp_path / "x.csv").exists()


def test_single_recording_is_not_a_batch(dataset: Path) -> None:
    parser = build_parser()
    one = str(dataset / "csv" / "group0" / "set00.csv")
    session = str(dataset / "sessions" / "session1")
    for args in ([one], [session], [one, "--json"], [str(dataset / "missing.csv")]):
        assert not batch.is_batch(parser.parse_args(["analyze", *args])), args
    for args in (
        [one, one],
        [str(dataset / "csv")],
        [str(dataset / "csv" / "*" / "*.csv")],
        [one, "--out", "x.csv"],
    ):
        assert batch.is_batch(parser.parse_args(["analyze", *args])), args


# -- expansion of paths -------------------------------------------------------------------


def _touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Files and folders of every kind (contents are not read by the expansion)."""
    _touch(tmp_path / "a.csv")
    _touch(tmp_path / "a.events.csv")
    _touch(tmp_path / "a.truth.json")
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / "lab" / "b.bdf")
    _touch(tmp_path / "lab" / "c.EDF")
    _touch(tmp_path / "lab" / "deep" / "d.xdf")
    _touch(tmp_path / ".hidden" / "e.csv")
    _touch(tmp_path / "lab" / ".f.csv")
    # a session folder, with its BIDS export inside: one recording
    _touch(tmp_path / "s1" / "session.json", "{}")
    _touch(tmp_path / "s1" / "bids" / "dataset_description.json", "{}")
    _touch(tmp_path / "s1" / "bids" / "sub-01" / "emg" / "sub-01_task-x_emg.bdf")
    # BIDS datasets: one recording (the folder), two recordings (each file)
    _touch(tmp_path / "one" / "dataset_description.json", "{}")
    _touch(tmp_path / "one" / "sub-01" / "emg" / "sub-01_task-x_emg.bdf")
    _touch(tmp_path / "two" / "dataset_description.json", "{}")
    _touch(tmp_path / "two" / "sub-02" / "ses-1" / "emg" / "sub-02_ses-1_task-x_emg.edf")
    _touch(tmp_path / "two" / "sub-01" / "emg" / "sub-01_task-x_emg.bdf")
    _touch(tmp_path / "two" / "sub-01" / "emg" / "sub-01_task-x_channels.tsv")
    return tmp_path


def _relative(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_folders_expand_recursively_into_recordings(tree: Path) -> None:
    assert _relative(expand_inputs([tree]), tree) == [
        "a.csv",
        "lab/b.bdf",
        "lab/c.EDF",
        "lab/deep/d.xdf",
        "one",
        "s1",
        "two/sub-01/emg/sub-01_task-x_emg.bdf",
        "two/sub-02/ses-1/emg/sub-02_ses-1_task-x_emg.edf",
    ]
    # a folder that is a recording is one input, wherever it is named
    assert expand_inputs([tree / "s1"]) == [tree / "s1"]
    assert expand_inputs([tree / "one"]) == [tree / "one"]
    assert len(expand_inputs([tree / "two"])) == 2


def test_files_and_globs_expand_as_given(tree: Path) -> None:
    # a file named is taken whatever its ending; order as given, each once
    assert _relative(
        expand_inputs([tree / "notes.txt", tree / "a.csv", tree / "notes.txt"]), tree
    ) == ["notes.txt", "a.csv"]
    assert _relative(expand_inputs([f"{tree}/*.csv"]), tree) == ["a.csv", "a.events.csv"]
    assert _relative(expand_inputs([f"{tree}/lab/**/*"]), tree) == [
        "lab/b.bdf",
        "lab/c.EDF",
        "lab/deep/d.xdf",
    ]
    # a folder matched by a pattern is expanded like a folder named
    assert _relative(expand_inputs([f"{tree}/s*", f"{tree}/t*"]), tree) == [
        "s1",
        "two/sub-01/emg/sub-01_task-x_emg.bdf",
        "two/sub-02/ses-1/emg/sub-02_ses-1_task-x_emg.edf",
    ]
    # the output table is never an input
    assert _relative(
        expand_inputs([tree / "lab", tree / "a.csv"], exclude=[tree / "a.csv"]), tree
    ) == ["lab/b.bdf", "lab/c.EDF", "lab/deep/d.xdf"]


def test_expansion_errors(tree: Path) -> None:
    from emg.errors import EmgInputError

    with pytest.raises(EmgInputError, match="no file or folder matches"):
        expand_inputs([f"{tree}/*.parquet"])
    with pytest.raises(EmgInputError, match="no such file or folder"):
        expand_inputs([tree / "missing.csv"])
    _touch(tree / "empty" / "nested" / "readme.md")
    with pytest.raises(EmgInputError, match="no recording found"):
        expand_inputs([tree / "empty"])


# -- the table's columns from a summary -----------------------------------------------------


def test_sets_and_subject() -> None:
    events = [
        Event(0.1, "mark", "set 1", data={"set": 1}),
        Event(30.0, "mark", "set 3"),  # as read from an annotation: the text only
        Event(10.0, "mark", "set 2", data={"set": 2}),
        Event(12.0, "mark", "warm-up"),
        Event(14.0, "rep", "1 glute-first"),
    ]
    sets = set_markers(events)
    assert sets == ((0.1, 1), (10.0, 2), (30.0, 3))
    assert [set_of(t, sets) for t in (0.0, 5.0, 10.0, 29.9, 31.0, None)] == [1, 1, 2, 2, 3, 1]
    assert set_of(5.0, ()) == 1
    assert subject_of({"subject": " 04 "}, "x.csv") == "04"
    assert subject_of({}, "data/sub-12/ses-1/emg/sub-12_ses-1_task-x_emg.bdf") == "12"
    assert subject_of({"subject": ""}, "data/s.csv") is None


def test_flags_and_cramp_risk_of_each_rep() -> None:
    rep = {
        "side": "left",
        "start_s": 1.0,
        "glute_onset_s": 1.1,
        "hamstring_onset_s": 1.0,
        "lead_ms": -100.0,
        "order": "hamstring-first",
        "ratio": 0.8,
    }
    reps = [
        {
            **rep,
            "index": i,
            "start_s": 2.0 * i - 1,
            "decided_at_s": 2.0 * i,
            "completed_at_s": 2.0 * i + 1,
        }
        for i in (1, 2, 3)
    ]
    summary = {
        "exercise": {"name": "hip-thrust"},
        "reps": [*reps, {**reps[1], "side": "right"}],
        "flags": [
            {"time_s": 4.0, "kind": "hamstring-first", "reps": [1, 2], "side": "left"},
            {"time_s": 7.0, "kind": "hamstring-share", "reps": [1, 2, 3], "side": "left"},
            {"time_s": 6.0, "kind": "hamstring-first-cleared", "reps": [3], "side": "left"},
        ],
        "cramp_risk_timeline": [
            {"time_s": 4.0, "side": "left", "level": "watch"},
            {"time_s": 4.0, "side": "left", "level": "warning"},
            {"time_s": 3.0, "side": "right", "level": "watch"},
            {"time_s": 6.5, "side": "left", "level": "ok"},
        ],
    }
    rows = rep_rows("s.csv", summary, SessionInfo("01", ((3.0, 2),)))
    assert [r["raised_flags"] for r in rows] == ["", "hamstring-first", "hamstring-share", ""]
    assert [r["cramp_risk"] for r in rows] == ["ok", "warning", "warning", "watch"]
    assert [r["set"] for r in rows] == [1, 2, 2, 2]
    assert list(rows[0]) == list(COLUMNS)
    table = reps_table([SessionRows("s.csv", tuple(rows))])
    assert table["rep"].dtype == "int64" and table["lead_ms"].dtype == "float64"

    # a run without subject or side has the same Parquet schema: tables of two runs concatenate
    pyarrow = pytest.importorskip("pyarrow")
    bare = [{**r, "subject": None, "side": None} for r in rows]
    other = reps_table([SessionRows("t.csv", tuple(bare))])
    schemas = [pyarrow.Table.from_pandas(t, preserve_index=False).schema for t in (table, other)]
    assert schemas[0] == schemas[1]
    text = schemas[0].field("subject").type  # large_string with pandas 3, string before
    assert pyarrow.types.is_string(text) or pyarrow.types.is_large_string(text)
    assert len(pd.concat([table, other])) == 2 * len(rows)


def test_empty_table_has_the_columns(tmp_path: Path) -> None:
    from emg.io.rep_table import write_table

    empty = reps_table([])
    assert list(empty.columns) == list(COLUMNS) and empty.empty
    for name in ("e.parquet", "e.csv"):
        write_table(empty, tmp_path / name)
        assert list(read_table(tmp_path / name).columns) == list(COLUMNS)


def test_progress_draws_on_a_terminal_only(tmp_path: Path) -> None:
    class Terminal:
        def __init__(self, tty: bool) -> None:
            self.text, self.tty = "", tty

        def isatty(self) -> bool:
            return self.tty

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

        def flush(self) -> None:
            pass

    for tty in (True, False):
        stream = Terminal(tty)
        progress = batch.TextProgress(4, stream, width=8)  # type: ignore[arg-type]
        progress(1, 0)
        progress(4, 1)
        progress.close()
        assert ("[########] 4/4 recordings, 1 failed" in stream.text) is tty
        assert stream.text.endswith("\n") is tty


def test_default_workers_is_the_cores() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert batch.default_workers() == cores
