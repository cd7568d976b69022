"""``emg analyze PATHS... --out TABLE``: many recordings analysed in parallel on Dask.

The engine is the library's (:mod:`emg.batch_analysis`): every recording is analysed exactly
as ``emg analyze FILE`` analyses it, on a local cluster of worker processes (``--workers N``,
default one per core) or on a running cluster (``--scheduler tcp://HOST:PORT``). A file that
fails is reported (file and reason) and the others go on; the reps of all sessions are written
as Parquet or CSV, and the failures beside them. This module maps the options and prints.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from emg.batch_analysis import (
    BatchJob,
    analyze_batch,
    check_table_output,
    default_workers,
    local_client,
    remote_client,
)
from emg.commands.options import OPTIONS, default_config, setting_overrides
from emg.errors import EmgInputError
from emg.io.batch_inputs import expand_inputs, is_glob, is_recording_folder
from emg.io.channel_map import parse_channel_overrides
from emg.io.rep_table import write_table


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
        help="worker processes of the local Dask cluster (default: one per core; one "
        "recording is analysed in this process, whatever N)",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="use a running Dask cluster, e.g. tcp://10.0.0.5:8786, instead of a local one "
        "(its workers need emg-toolkit and the files at the same paths)",
    )


def is_batch(args: argparse.Namespace) -> bool:
    """True unless ``args`` name one recording and no batch option: several paths, a pattern,
    a folder that is not itself a recording, or ``--out`` / ``--scheduler`` (``--workers``
    alone sizes a cluster that one recording does not need: it is analysed as alone)."""
    if args.out is not None or args.scheduler is not None:
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


def analysis_options(args: argparse.Namespace) -> BatchJob:
    """How each recording of the batch is analysed: the ``--channel``, signal-chain and
    recruitment options given, to send to the workers."""
    return BatchJob(
        parse_channel_overrides(args.channel), setting_overrides(args), OPTIONS, args.stream
    )


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
        For options that do not fit a batch, a table that cannot be written (a folder ...),
        paths that do not exist or match nothing, no recording found, a missing Dask or
        pyarrow, an address where no Dask scheduler answers.
    """
    if args.json:
        raise EmgInputError(
            "--json prints the analysis of one recording; a batch writes its table with --out",
            source="command line",
        )
    if args.out is None:
        inputs = expand_inputs(args.inputs)  # says so when there is no recording at all
        if len(args.inputs) == 1 and inputs == [Path(args.inputs[0])]:  # one, with --scheduler
            raise EmgInputError(
                "--scheduler analyses on a Dask cluster into a table: give --out REPS.parquet "
                f"or --out REPS.csv, or leave --scheduler out to analyse {args.inputs[0]} here",
                source="command line",
            )
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
    failed_out = check_table_output(out)
    default_config(args)  # the options checked before any recording is read
    inputs = expand_inputs(args.inputs, exclude=(out, failed_out))
    options = analysis_options(args)
    progress = TextProgress(len(inputs))
    started = time.monotonic()
    try:
        if args.scheduler is not None:
            with remote_client(args.scheduler, "--scheduler") as client:
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
