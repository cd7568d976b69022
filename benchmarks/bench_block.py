"""Live path: one 20 ms block of 4 channels at 2 kHz through the whole chain.

Two passes over the same stream of blocks, each through a fresh chain:

1. timing, with nothing else running: median, 99th percentile and maximum time per block;
2. memory, with tracemalloc on: the traced memory after every simulated 10 minutes, which must
   stay flat. Tracing slows every allocation down, so the block times of this pass are printed
   too, but only as a second figure.

Usage: ``python benchmarks/bench_block.py [--minutes 60]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import numpy.typing as npt

from emg.dsp.chain import ChainConfig, SignalChain
from emg.sources.synthetic import SynthConfig, generate_session

BLOCK_S = 0.020


def run(
    source: npt.NDArray[np.float64], fs: float, n_blocks: int, trace: bool
) -> npt.NDArray[np.float64]:
    """Feed ``n_blocks`` blocks (looping over ``source``); return the time of each, sorted."""
    block = round(BLOCK_S * fs)
    chain = SignalChain(ChainConfig(mains_hz=50.0), fs, source.shape[1])
    per_ten_minutes = int(600 / BLOCK_S)
    timings = np.zeros(n_blocks)  # preallocated: a growing list would show as a leak
    if trace:
        tracemalloc.start()
    position = 0
    for i in range(n_blocks):
        if position + block > len(source):
            position = 0
        x = source[position : position + block]
        position += block
        start = time.perf_counter()
        chain.process_array(x)
        timings[i] = time.perf_counter() - start
        if trace and (i + 1) % per_ten_minutes == 0:
            current, peak = tracemalloc.get_traced_memory()
            print(
                f"{(i + 1) * BLOCK_S / 60:5.0f} min: traced memory {current / 1e3:7.1f} kB "
                f"(peak {peak / 1e3:.1f} kB)"
            )
    if trace:
        tracemalloc.stop()
    timings.sort()
    return timings


def describe(timings: npt.NDArray[np.float64]) -> str:
    """Median, 99th percentile and maximum in milliseconds."""
    return (
        f"median {float(np.median(timings)) * 1000:.3f} ms, "
        f"p99 {timings[int(0.99 * len(timings))] * 1000:.3f} ms, "
        f"max {timings[-1] * 1000:.3f} ms per block"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    session = generate_session(SynthConfig(reps=20, sides=True, seed=2, snr_db=15))
    source = session.recording.data.astype(np.float64)  # 4 channels, ~65 s, looped
    fs = session.recording.sample_rate
    block = round(BLOCK_S * fs)
    n_blocks = int(args.minutes * 60 / BLOCK_S)
    print(
        f"{n_blocks} blocks of {block} samples x {source.shape[1]} channels "
        f"(real time allows {block / fs * 1000:.0f} ms per block)"
    )
    timed = run(source, fs, n_blocks, trace=False)
    print(f"timing pass:             {describe(timed)}")
    traced = run(source, fs, n_blocks, trace=True)
    print(f"memory pass (tracing on): {describe(traced)}")


if __name__ == "__main__":
    main()
