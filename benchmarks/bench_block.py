"""Live path: one 20 ms block of 4 channels at 2 kHz through the whole chain.

Prints the median and 99th-percentile time per block and the traced memory after every
simulated 10 minutes, which must stay flat. Usage: ``python benchmarks/bench_block.py
[--minutes 60]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from emg.dsp.chain import ChainConfig, SignalChain
from emg.sources.synthetic import SynthConfig, generate_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    session = generate_session(SynthConfig(reps=20, sides=True, seed=2, snr_db=15))
    source = session.recording.data.astype(np.float64)  # 4 channels, ~65 s, looped
    fs = session.recording.sample_rate
    block = round(0.020 * fs)
    n_blocks = int(args.minutes * 60 / 0.020)
    chain = SignalChain(ChainConfig(mains_hz=50.0), fs, source.shape[1])
    per_ten_minutes = int(600 / 0.020)
    timings = np.zeros(n_blocks)  # preallocated: a growing list would show as a leak
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
        if (i + 1) % per_ten_minutes == 0:
            current, peak = tracemalloc.get_traced_memory()
            print(
                f"{(i + 1) * 0.020 / 60:5.0f} min: traced memory {current / 1e6:6.2f} MB "
                f"(peak {peak / 1e6:.2f} MB)"
            )
    tracemalloc.stop()
    timings.sort()
    print(
        f"{n_blocks} blocks of {block} samples x {source.shape[1]} channels: median "
        f"{float(np.median(timings)) * 1000:.3f} ms, p99 "
        f"{timings[int(0.99 * len(timings))] * 1000:.3f} ms per block "
        f"(real time allows {block / fs * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
