"""A test signal for onset refinements: unit white noise with a burst of known onset, and
where the detector would find that burst."""

from __future__ import annotations

import numpy as np


def noisy_ramp(
    rng: np.random.Generator, ramp_s: float, snr_db: float, onset: int, fs: float, n: int = 3000
) -> np.ndarray:
    """Unit white noise times ``1 + A * amplitude``, ``A`` the amplitude of ``snr_db``, the
    amplitude a ramp from ``onset`` to 1 over ``ramp_s`` (a step when ``ramp_s`` is 0)."""
    t = (np.arange(n) - onset) / fs
    amplitude = np.clip(t / ramp_s, 0, 1) if ramp_s > 0 else (t >= 0).astype(float)
    out: np.ndarray = (1 + 10 ** (snr_db / 20) * amplitude) * rng.standard_normal(n)
    return out


def threshold_crossing(x: np.ndarray, onset: int) -> int:
    """Where a 50 ms RMS first exceeds rest + 3 SD after the onset (the detector's crossing)."""
    rms = np.sqrt(np.convolve(x * x, np.ones(100) / 100)[: len(x)])
    rest = rms[100:onset]
    return onset + int(np.argmax(rms[onset:] > rest.mean() + 3 * rest.std()))
