"""Batch analysis throughput on a local Dask cluster: 1 worker against 2, in the same run.

Writes ``--sessions`` synthetic hip-thrust sets of ``--seconds`` each (2 channels at 2 kHz,
other seeds and leads, CSV or native session folders) to a temporary folder, then analyses
all of them as ``emg analyze FOLDER --out reps.parquet`` does (:func:`emg.commands.batch.
analyze_batch`), in this process without Dask and on local clusters of 1 and 2 worker
processes. For each it prints the cluster's start-up time (once per cluster, not counted in
the throughput), the batch time (best of ``--repeat``, workers warmed up: the package already
imported) and sessions per second, then the 2 : 1 worker speed-up. The tables of all runs must
be identical.

Usage: ``python benchmarks/bench_batch.py [--sessions 40] [--seconds 60] [--format csv]
[--repeat 2] [--workers 1,2]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from emg.cli import build_parser
from emg.commands import batch
from emg.io.batch_inputs import expand_inputs
from emg.io.csv_format import write_emg_csv
from emg.io.session_writer import SessionWriter
from emg.sources.synthetic import SynthConfig, generate_session

REST_S, PERIOD_S = 3.0, 3.0


def write_sessions(folder: Path, count: int, seconds: float, kind: str) -> None:
    """``count`` synthetic sets of ``seconds`` each (as many 3 s reps as fit)."""
    reps = max(1, int((seconds - REST_S - 2.0) // PERIOD_S))
    for index in range(count):
        config = SynthConfig(
            reps=reps,
            seed=index,
            lead_ms=-150.0 + 300.0 * index / max(1, count - 1),
            snr_db=(20.0, 10.0, 15.0)[index % 3],
            rest_s=REST_S,
            rep_period_s=PERIOD_S,
            end_rest_s=seconds - REST_S - reps * PERIOD_S,
        )
        recording = generate_session(config).recording
        if kind == "csv":
            write_emg_csv(folder / f"set{index:03d}.csv", recording)
            continue
        writer = SessionWriter(folder / f"set{index:03d}", recording.channels, 2000.0)
        for block in recording.blocks(20_000):
            writer.write_block(block)
        writer.close()


def _import_emg() -> bool:
    import emg.commands.batch  # noqa: F401

    return True


def timed_batch(
    inputs: list[Path], options: argparse.Namespace, client: Any, repeat: int
) -> tuple[float, pd.DataFrame]:
    """Best batch time of ``repeat`` runs, and the table."""
    best, table = float("inf"), pd.DataFrame()
    for _ in range(repeat):
        start = time.perf_counter()
        result = batch.analyze_batch(inputs, options, client)
        best = min(best, time.perf_counter() - start)
        assert not result.failures, result.failures
        table = result.reps
    return best, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--format", choices=["csv", "native"], default="csv")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        start = time.perf_counter()
        write_sessions(folder, args.sessions, args.seconds, args.format)
        print(
            f"{args.sessions} sessions of {args.seconds:g} s ({args.format}, 2 channels at "
            f"2 kHz) written in {time.perf_counter() - start:.1f} s"
        )
        inputs = expand_inputs([folder])
        options = batch.analysis_options(build_parser().parse_args(["analyze", str(folder)]))
        seconds, reference = timed_batch(inputs, options, None, args.repeat)
        print(
            f"in this process (no Dask): {seconds:6.2f} s, "
            f"{args.sessions / seconds:5.2f} sessions/s, {len(reference)} reps"
        )
        rates: dict[int, float] = {}
        for count in counts:
            start = time.perf_counter()
            with batch.local_client(count) as client:
                started = time.perf_counter() - start
                client.run(_import_emg)
                seconds, table = timed_batch(inputs, options, client, args.repeat)
            pd.testing.assert_frame_equal(table, reference, check_exact=True)
            rates[count] = args.sessions / seconds
            print(
                f"{count} worker{'s' if count > 1 else ' '} (cluster up in {started:4.1f} s): "
                f"{seconds:6.2f} s, {rates[count]:5.2f} sessions/s"
            )
        if 1 in rates:
            for count in counts:
                if count != 1:
                    print(f"{count} : 1 workers: {rates[count] / rates[1]:.2f} x the throughput")
        print("tables identical in every run")


if __name__ == "__main__":
    main()
