"""Recording an hour: memory of the recorder (and of the whole live session) must stay flat.

An hour of 4 channels at 2 kHz (left and right glute and hamstring, with packet loss) is fed
as 20 ms blocks, as fast as it goes, through

1. the session writer alone (samples, loss events, flushes), and
2. the whole live session: recorder first, then the signal chain, reps, flags and cramp
   risk, their events written as they come,

printing the traced Python memory (tracemalloc) and the process's resident memory after every
simulated 10 minutes, and the time per block. The session is written to a temporary folder
and deleted afterwards (about 115 MB per pass).

Usage: ``python benchmarks/bench_recording.py [--minutes 60] [--writer-only]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from emg.analysis.pipeline import AnalysisConfig
from emg.block import Block
from emg.dsp.chain import ChainConfig
from emg.io.session_writer import SessionWriter
from emg.recording import Recording
from emg.session import LiveSession
from emg.sources.synthetic import SynthConfig, generate_session

BLOCK_S = 0.020


def resident_mb() -> float:
    """Resident set size of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def blocks(source: Recording, minutes: float):  # type: ignore[no-untyped-def]
    """20 ms blocks of ``minutes``, looping over ``source`` with a running sample index."""
    size = round(BLOCK_S * source.sample_rate)
    total = round(minutes * 60 / BLOCK_S)
    position = start = 0
    for _ in range(total):
        if position + size > source.n_samples:
            position = 0
        yield Block(
            data=source.data[position : position + size],
            sample_rate=source.sample_rate,
            t0=start / source.sample_rate,
            start=start,
            channels=source.channels,
            lost=source.lost[position : position + size],
        )
        position += size
        start += size


def run(source: Recording, minutes: float, whole_session: bool) -> None:
    """One pass, printing memory every 10 simulated minutes."""
    label = "whole live session" if whole_session else "session writer alone"
    print(
        f"\n{label}: {minutes:g} min of {len(source.channels)} channels at "
        f"{source.sample_rate:g} Hz"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "session"
        if whole_session:
            config = AnalysisConfig(chain=ChainConfig(mains_hz=50.0))
            live = LiveSession(
                source.channels, source.sample_rate, config, folder, keep_events=False
            )
            feed = live.feed
        else:
            writer = SessionWriter(folder, source.channels, source.sample_rate)
            feed = writer.write_block  # type: ignore[assignment]
        every = round(600 / BLOCK_S)
        tracemalloc.start()
        began = time.perf_counter()
        for i, block in enumerate(blocks(source, minutes)):
            feed(block)
            if (i + 1) % every == 0:
                current, peak = tracemalloc.get_traced_memory()
                elapsed = time.perf_counter() - began
                print(
                    f"{(i + 1) * BLOCK_S / 60:5.0f} min: traced {current / 1e3:8.1f} kB "
                    f"(peak {peak / 1e3:8.1f} kB), resident {resident_mb():6.1f} MB, "
                    f"{elapsed / (i + 1) * 1e3:.3f} ms per block (traced)"
                )
        tracemalloc.stop()
        if whole_session:
            live.finish("end of source")
            print(f"events: {dict(live.counts)}")
        else:
            writer.close()
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"session on disk: {size / 1e6:.1f} MB")


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--writer-only", action="store_true")
    args = parser.parse_args()
    config = SynthConfig(
        reps=20,
        seed=3,
        sides=True,
        loss=0.01,
        lead_ms=tuple(float(v) for v in np.tile([90, -100], 10)),
    )
    source = generate_session(config).recording
    run(source, args.minutes, whole_session=False)
    if not args.writer_only:
        run(source, args.minutes, whole_session=True)


if __name__ == "__main__":
    main()
