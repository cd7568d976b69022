"""What a batch (``emg analyze PATHS --out TABLE [--scheduler ADDRESS]``) refuses before any
recording is analysed: a table that is a folder, and an address where no Dask scheduler
answers (a server that never answers, one that answers junk, a worker), each in one line."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import emg.batch_analysis
from emg.batch_analysis import analyze_many, check_scheduler, check_table_output
from emg.cli import main
from emg.errors import EmgInputError
from emg.io.csv_format import write_emg_csv
from emg.sources.synthetic import SynthConfig, generate_session

#: What an HTTP server answers to a Dask handshake.
JUNK = b"HTTP/1.0 400 Bad request\r\nContent-Type: text/html\r\n\r\n<html>junk</html>\n"

#: The scheduler's timeout in these tests, in seconds (every wait is bounded by it).
TIMEOUT_S = 1.0

HINT = "is it running, and is this the address it printed (tcp://HOST:PORT)?"


class Silent(socketserver.BaseRequestHandler):
    """Takes the connection and never answers (an HTTP server waiting for a request line)."""

    def handle(self) -> None:
        self.request.settimeout(30)
        try:
            while self.request.recv(4096):
                pass
        except OSError:
            pass


class Junk(Silent):
    """Answers what is not Dask's (its first 8 bytes read as a length: exabytes)."""

    def handle(self) -> None:
        self.request.sendall(JUNK)
        super().handle()


@contextmanager
def server(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    """A TCP server on a free local port, in a thread, stopped after; yields its address."""
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    tcp.daemon_threads = True
    thread = threading.Thread(target=tcp.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{tcp.server_address[1]}"
    finally:
        tcp.shutdown()
        tcp.server_close()
        thread.join(timeout=10)


@pytest.fixture
def two_sets(tmp_path: Path) -> list[str]:
    paths = []
    for seed in (1, 2):
        path = tmp_path / f"set{seed}.csv"
        write_emg_csv(path, generate_session(SynthConfig(reps=2, seed=seed)).recording)
        paths.append(str(path))
    return paths


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduler has :data:`TIMEOUT_S` to answer."""
    monkeypatch.setattr(emg.batch_analysis, "SCHEDULER_TIMEOUT_S", TIMEOUT_S)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# -- the table --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reps.parquet", "reps.csv", "tables"])
def test_a_table_that_is_a_folder_is_refused_before_any_analysis(
    name: str,
    two_sets: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pyarrow said ``Failed to open local file ... Is a directory`` once every recording had
    been analysed."""

    def no_analysis(*args: object, **kwargs: object) -> None:
        raise AssertionError("analysed before the table was checked")

    monkeypatch.setattr("emg.commands.batch.analyze_batch", no_analysis)
    out = tmp_path / name
    out.mkdir()
    status, printed, err = run(["analyze", *two_sets, "--out", str(out)], capsys)
    example = out / ("reps.parquet" if name == "tables" else name)
    assert (status, printed) == (2, "")
    assert err == (
        f"emg: error: {out}: is a folder; the table is written to a file: name one, e.g. "
        f"{example}\n"
    )
    assert list(out.iterdir()) == []


def test_a_failures_file_that_is_a_folder_is_refused_before_any_analysis(
    two_sets: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reps.csv"
    (tmp_path / "reps.failures.csv").mkdir()
    status, printed, err = run(["analyze", *two_sets, "--out", str(out)], capsys)
    assert (status, printed) == (2, "")
    assert err == (
        f"emg: error: {tmp_path / 'reps.failures.csv'}: is a folder; the recordings that fail "
        "are listed in this file beside the table reps.csv: move it, or name another table\n"
    )
    assert not out.exists()


def test_a_new_table_is_taken(tmp_path: Path) -> None:
    assert check_table_output(tmp_path / "reps.parquet") == tmp_path / "reps.failures.parquet"
    with pytest.raises(EmgInputError, match=r"name it \.parquet or \.csv"):
        check_table_output(tmp_path / "reps.json")


# -- the scheduler ----------------------------------------------------------------------------


def test_a_server_that_never_answers_is_given_up(
    quick: None, two_sets: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It held ``emg analyze`` for ever: distributed bounds the connection, not the handshake
    after it."""
    pytest.importorskip("distributed")
    out = tmp_path / "reps.csv"
    with server(Silent) as address:
        started = time.monotonic()
        status, printed, err = run(
            ["analyze", *two_sets, "--out", str(out), "--scheduler", address], capsys
        )
        assert time.monotonic() - started < 30 * TIMEOUT_S  # a generous bound: not for ever
    assert (status, printed) == (2, "")
    assert err == (
        f"emg: error: command line: --scheduler {address}: no Dask scheduler answered within "
        f"1 s: {HINT}\n"
    )
    assert not out.exists()


def test_a_server_that_answers_junk_is_not_a_scheduler(
    quick: None, two_sets: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its first bytes were read as a message length: numpy's MemoryError (exabytes) as a
    traceback."""
    pytest.importorskip("distributed")
    out = tmp_path / "reps.csv"
    with server(Junk) as address:
        status, printed, err = run(
            ["analyze", *two_sets, "--out", str(out), "--scheduler", address], capsys
        )
        # the library names the address itself
        with pytest.raises(EmgInputError) as raised:
            analyze_many(two_sets, scheduler=address)
    assert (status, printed) == (2, "")
    reason = (
        "what answers there is not a Dask scheduler: is this the address the scheduler "
        "printed (tcp://HOST:PORT)?"
    )
    assert err == f"emg: error: command line: --scheduler {address}: {reason}\n"
    assert str(raised.value) == f"{address}: {reason}"
    assert not out.exists()


def test_an_address_dask_cannot_read_is_named(
    quick: None, two_sets: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("distributed")
    argv = ["analyze", *two_sets, "--out", str(tmp_path / "reps.csv"), "--scheduler"]
    status, printed, err = run([*argv, "http://127.0.0.1:8786"], capsys)
    assert (status, printed) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "emg: error: command line: --scheduler http://127.0.0.1:8786: not a Dask scheduler's "
        "address: "
    )
    assert lines[0].endswith("; give the one the scheduler printed (tcp://HOST:PORT)")
    assert "'http'" in lines[0]


def test_a_workers_address_is_refused_and_the_schedulers_taken(quick: None) -> None:
    distributed = pytest.importorskip("distributed")
    in_process = {"processes": False, "protocol": "tcp", "dashboard_address": "127.0.0.1:0"}
    with distributed.LocalCluster(n_workers=1, **in_process) as cluster:
        worker = next(iter(cluster.scheduler.workers))
        with pytest.raises(EmgInputError) as raised:
            check_scheduler(worker, "--scheduler")
        assert str(raised.value) == (
            f"command line: --scheduler {worker}: is a Dask worker, not the scheduler: give "
            "the scheduler's address (tcp://HOST:PORT)"
        )
        check_scheduler(cluster.scheduler_address, "--scheduler")
