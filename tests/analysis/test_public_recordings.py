"""The chain on real recordings made by others (see recordings/public/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from emg.analysis.offline import analyze_recording, resolve_mains
from emg.dsp.chain import ChainConfig
from emg.dsp.onset import REFINEMENTS
from emg.io.csv_format import read_emg_csv


def _bursts(path: Path, refinement: str) -> dict[str, list[tuple[float, float]]]:
    recording = read_emg_csv(path)
    config = ChainConfig().with_refinement(refinement)
    result = analyze_recording(recording, resolve_mains(recording, config, "auto"))
    fs = recording.sample_rate
    return {
        ch.label: [(b.onset / fs, b.offset / fs) for b in result.bursts_of(i)]
        for i, ch in enumerate(recording.channels)
    }


@pytest.mark.parametrize("refinement", REFINEMENTS)
def test_biosppy_large_bursts_and_quiet_stretches(public_dir: Path, refinement: str) -> None:
    bursts = _bursts(public_dir / "biosppy_emg_1.csv", refinement)["emg"]
    for expected in (1.7, 16.0, 25.8, 26.5):
        assert any(on - 0.3 <= expected <= off + 0.3 for on, off in bursts), expected
    for quiet_start, quiet_end in ((5.0, 14.0), (48.0, 63.0)):
        assert not [b for b in bursts if b[1] > quiet_start and b[0] < quiet_end]


def _strides(knee_csv: Path, after_s: float, before_s: float) -> np.ndarray:
    """Times of the knee-flexion peaks of swing (goniometer), between the two limits."""
    knee = pd.read_csv(knee_csv)
    fs = 1 / (knee["time"][1] - knee["time"][0])
    peaks, _ = signal.find_peaks(knee["knee_deg"], height=35, distance=int(0.8 * fs))
    times = knee["time"].to_numpy()[peaks]
    return times[(times > after_s) & (times < before_s)]


def _each_stride_has_burst(bursts: list[tuple[float, float]], strides: np.ndarray) -> None:
    # hamstrings fire in terminal swing, after the knee-flexion peak of swing
    for peak in strides:
        assert any(on < peak + 0.7 and off > peak + 0.1 for on, off in bursts), peak


@pytest.mark.parametrize("refinement", REFINEMENTS)
def test_uci_gait_hamstring_bursts_every_stride(public_dir: Path, refinement: str) -> None:
    normal = _bursts(public_dir / "uci_5Nmar.csv", refinement)
    # EMG ends at 6.56 s; the first stride starts inside the baseline warm-up
    strides = _strides(public_dir / "uci_5Nmar_knee.csv", after_s=0.5, before_s=5.8)
    assert len(strides) == 4
    for muscle in ("biceps_femoris", "semitendinosus"):
        _each_stride_has_burst(normal[muscle], strides)
        assert len(normal[muscle]) <= len(strides) + 1
    abnormal = _bursts(public_dir / "uci_3Amar.csv", refinement)
    # subject 3 (knee abnormality): semitendinosus is tonically active for the first strides
    strides = _strides(public_dir / "uci_3Amar_knee.csv", after_s=9.0, before_s=43.0)
    assert len(strides) >= 25
    for muscle in ("biceps_femoris", "semitendinosus"):
        _each_stride_has_burst(abnormal[muscle], strides)
