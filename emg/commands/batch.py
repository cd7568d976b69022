"""``emg analyze PATHS... --out TABLE``: many recordings analysed in parallel on Dask.

Every recording goes through :func:`emg.commands.analyze.analyze_input`, the code path of
``emg analyze FILE``, in a Dask task of its own: on a local cluster of worker processes
(``--workers N``, default one per core), or on a running cluster (``--scheduler
tcp://HOST:PORT``; its workers need ``emg-toolkit`` installed and the files at the same
paths). A file that fails is reported (file and reason) and the others go on. The reps of all
sessions are collected in the order the inputs were given into one table
(:mod:`emg.analysis.batch`), written as Parquet or CSV, and the failures beside it.

Dask (``distributed``) is imported only here, and only when a batch runs on a cluster (more
than one recording, or ``--scheduler``): ``emg analyze FILE`` works without it, and so does a
batch of one recording, which runs in this process.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pandas as pd

from emg.analysis.batch import (
    SessionFailure,
    SessionRows,
    failures_table,
    rep_rows,
    reps_table,
    session_info,
)
from emg.commands.analyze import analyze_input
from emg.commands.options import (
    add_chain_options,
    add_recruitment_options,
    chain_config,
    exercise_config,
)
from emg.commands.record import add_channel_option
from emg.errors import EmgInputError
from emg.io.batch_inputs import expand_inputs, is_glob, is_recording_folder
from emg.io.rep_table import failures_path, table_format, write_table

if TYPE_CHECKING:
    from distributed import Client

#: What to install for a batch on Dask (the toolkit is installed from its checkout).
DASK_HINT = "python -m pip install -e '.[batch]' in the toolkit's checkout"

#: Dask's settings of the environment its worker processes start with.
_PRE_SPAWN = "distributed.nanny.pre-spawn-environ"

#: Called after each finished recording with (finished, failed).
Progress = Callable[[int, int], None]


def positive_int(text: str) -> int:
    """An integer >= 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    """``--out``, ``--workers`` and ``--scheduler`` of ``emg analyze``."""
    group = parser.add_argument_group(
        "batch (several recordings, folders or patterns, analysed in parallel on Dask)"
    )
    group.add_argument(
        "--out",
        type=Path,
        metavar="TABLE",
        help="write one row per rep of every recording to TABLE (.parquet or .csv), and the "
        "recordings that failed, with the reason, to TABLE.failures.parquet|csv (exit "
        "status 1 when any failed)",
    )
    group.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="worker processes of the local Dask cluster (default: one per core)",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="use a running Dask cluster, e.g. tcp://10.0.0.5:8786, instead of a local one "
        "(its workers need emg-toolkit and the files at the same paths)",
    )


def is_batch(args: argparse.Namespace) -> bool:
    """True unless ``args`` name one recording and no batch option: several paths, a pattern,
    a folder that is not itself a recording, or ``--out`` / ``--workers`` / ``--scheduler``."""
    if args.out is not None or args.workers is not None or args.scheduler is not None:
        return True
    if len(args.inputs) != 1:
        return True
    text = str(args.inputs[0])
    path = Path(text)
    try:
        if not path.exists():
            return is_glob(text)
        return path.is_dir() and not is_recording_folder(path)
    except OSError:  # not allowed to look: one recording, whose reader says why it fails
        return False


def analysis_options(args: argparse.Namespace) -> argparse.Namespace:
    """Only the options the analysis of one recording reads (``--channel``, signal chain,
    recruitment), to send to the workers."""
    probe = argparse.ArgumentParser(add_help=False)
    add_channel_option(probe)
    add_chain_options(probe)
    add_recruitment_options(probe)
    keys = vars(probe.parse_args([]))
    return argparse.Namespace(**{key: getattr(args, key) for key in keys})


def analyze_session(
    path: str, session: str, options: argparse.Namespace
) -> SessionRows | SessionFailure:
    """Analyse one recording into its table rows; the task each Dask worker runs.

    Parameters
    ----------
    path
        Where to read it (absolute, for workers in another folder; else as given).
    session
        Its name in the table (the path as given).
    options
        From :func:`analysis_options`.

    Returns
    -------
    SessionRows or SessionFailure
        The rows (from the same summary ``emg analyze FILE --json`` prints), or why it failed:
        the message of an input error (naming file, field or line), else the exception's
        type and message.
    """
    try:
        summary, recording = analyze_input(Path(path), options)
        info = session_info(recording.metadata, recording.events, session)
        return SessionRows(session, tuple(rep_rows(session, summary, info)))
    except EmgInputError as error:
        return SessionFailure(session, str(error))
    except Exception as error:
        return SessionFailure(session, _describe(error))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class BatchResult:
    """What a batch gave.

    Attributes
    ----------
    sessions
        The rows of every recording analysed, in input order.
    failures
        The recordings that failed, in input order.
    """

    sessions: list[SessionRows] = field(default_factory=list)
    failures: list[SessionFailure] = field(default_factory=list)

    @property
    def reps(self) -> pd.DataFrame:
        """The table of every rep (see :mod:`emg.analysis.batch`)."""
        return reps_table(self.sessions)

    @property
    def failures_frame(self) -> pd.DataFrame:
        """The failures as a table (``session``, ``error``)."""
        return failures_table(self.failures)


def analyze_batch(
    inputs: Sequence[Path],
    options: argparse.Namespace,
    client: Client | None = None,
    progress: Progress | None = None,
    absolute: bool = False,
) -> BatchResult:
    """Analyse recordings, each as ``emg analyze FILE`` would, on Dask or in this process.

    Parameters
    ----------
    inputs
        The recordings (see :func:`emg.io.batch_inputs.expand_inputs`); each is named in the
        table by its path as given.
    options
        From :func:`analysis_options`.
    client
        A Dask client: one task per recording on its cluster. None: one after the other here.
    progress
        Called after each recording with the number finished and failed so far.
    absolute
        Send the workers absolute paths (for a cluster whose workers run in another folder);
        else the paths as given, so that every message names the file as ``emg analyze FILE``
        would.

    Returns
    -------
    BatchResult
        In input order, whatever order the tasks finished in.
    """
    jobs = [(str(path.resolve() if absolute else path), str(path)) for path in inputs]
    results: list[SessionRows | SessionFailure | None] = [None] * len(jobs)
    failed = 0
    for done, (index, result) in enumerate(_results(jobs, options, client), 1):
        results[index] = result
        failed += isinstance(result, SessionFailure)
        if progress is not None:
            progress(done, failed)
    batch = BatchResult()
    for outcome in results:
        if isinstance(outcome, SessionRows):
            batch.sessions.append(outcome)
        elif isinstance(outcome, SessionFailure):
            batch.failures.append(outcome)
    return batch


def _results(
    jobs: list[tuple[str, str]], options: argparse.Namespace, client: Client | None
) -> Iterator[tuple[int, SessionRows | SessionFailure]]:
    """``(input index, result)`` as each recording finishes."""
    if client is None:
        for index, (path, session) in enumerate(jobs):
            yield index, analyze_session(path, session, options)
        return
    from distributed import as_completed

    futures = [
        client.submit(analyze_session, path, session, options, pure=False) for path, session in jobs
    ]
    position = {future.key: index for index, future in enumerate(futures)}
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        index = position[future.key]
        try:
            result: SessionRows | SessionFailure = future.result()
        except Exception as error:  # the worker died, or the task could not run
            result = SessionFailure(jobs[index][1], _describe(error))
        future.release()
        yield index, result


def default_workers() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def require_dask() -> None:
    """Raise a clear error when Dask's ``distributed`` is not installed."""
    if importlib.util.find_spec("distributed") is None:
        raise EmgInputError(
            "analysing several recordings runs on Dask, which is not installed: "
            f"{DASK_HINT} (one recording at a time works without it)"
        )


@contextmanager
def local_client(workers: int) -> Iterator[Client]:
    """A client of a local cluster of ``workers`` single-threaded processes, closed after.

    The workers are started without the ``MALLOC_TRIM_THRESHOLD_=65536`` Dask sets for
    long-lived workers by default: it made the analysis of a recording about 20 % slower
    (``benchmarks/bench_batch.py``), and these workers live for one batch only.
    """
    require_dask()
    import dask.config
    from distributed import Client, LocalCluster

    with dask.config.set({f"{_PRE_SPAWN}.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


@contextmanager
def remote_client(address: str) -> Iterator[Client]:
    """A client of the running cluster at ``address``, closed after."""
    require_dask()
    from distributed import Client

    try:
        client = Client(address, timeout="20s")  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as error:
        raise EmgInputError(f"cannot reach the Dask scheduler ({error})", source=address) from None
    with client:
        yield client


class TextProgress:
    """A one-line progress bar, redrawn on a terminal (nothing when not on one).

    Parameters
    ----------
    total
        Recordings in the batch.
    stream
        Where to draw (default: standard error).
    width
        Characters of the bar.
    """

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.width = total, width
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, failed: int) -> None:
        """Redraw for ``done`` recordings finished, ``failed`` of them failed."""
        if not self.enabled:
            return
        filled = round(self.width * done / max(1, self.total))
        bar = "#" * filled + "." * (self.width - filled)
        failures = f", {failed} failed" if failed else ""
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r[{bar}] {done}/{self.total} recordings{failures}, {elapsed:.1f} s ")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the line."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def run_batch(args: argparse.Namespace) -> int:
    """``emg analyze PATHS... --out TABLE``; 0 when every recording was analysed, 1 when some
    failed (the table holds the others).

    Raises
    ------
    EmgInputError
        For options that do not fit a batch, paths that do not exist or match nothing, no
        recording found, a missing Dask or pyarrow, an unreachable scheduler.
    """
    if args.json:
        raise EmgInputError(
            "--json prints the analysis of one recording; a batch writes its table with --out",
            source="command line",
        )
    if args.out is None:
        expand_inputs(args.inputs)  # says so when there is no recording at all
        raise EmgInputError(
            "several recordings (more than one path, a pattern or a folder of recordings) "
            "are analysed into a table: give --out REPS.parquet or --out REPS.csv",
            source="command line",
        )
    if args.workers is not None and args.scheduler is not None:
        raise EmgInputError(
            "--workers sizes the local cluster; with --scheduler the running cluster's workers "
            "are used: give one of them",
            source="command line",
        )
    out: Path = args.out
    table_format(out)
    chain_config(args)
    exercise_config(args)
    failed_out = failures_path(out)
    inputs = expand_inputs(args.inputs, exclude=(out, failed_out))
    options = analysis_options(args)
    progress = TextProgress(len(inputs))
    started = time.monotonic()
    try:
        if args.scheduler is not None:
            with remote_client(args.scheduler) as client:
                where = f"on {args.scheduler}"
                result = analyze_batch(inputs, options, client, progress, absolute=True)
        elif len(inputs) > 1:
            workers = min(args.workers or default_workers(), len(inputs))
            with local_client(workers) as client:
                where = f"on {workers} local worker{'s' if workers > 1 else ''}"
                result = analyze_batch(inputs, options, client, progress)
        else:
            where = "in this process"
            result = analyze_batch(inputs, options, None, progress)
    except KeyboardInterrupt:
        progress.close()
        print("emg: interrupted: no table written", file=sys.stderr)
        return 130
    progress.close()
    elapsed = time.monotonic() - started
    reps = result.reps
    write_table(reps, out)
    write_table(result.failures_frame, failed_out)
    print(
        f"analysed {len(result.sessions)} of {len(inputs)} recordings {where} in "
        f"{elapsed:.1f} s: {len(reps)} reps written to {out}"
    )
    if not result.failures:
        return 0
    print(
        f"emg: {len(result.failures)} of {len(inputs)} recordings failed (also listed in "
        f"{failed_out}):",
        file=sys.stderr,
    )
    for failure in result.failures:
        print(f"  {failure.session}\n      {failure.error}", file=sys.stderr)
    return 1
