"""Onset accuracy against the generator's ground truth (2 kHz, ramped onsets)."""

from __future__ import annotations

import numpy as np
import pytest

from emg.analysis.offline import analyze_recording
from emg.dsp.chain import ChainConfig
from emg.sources.synthetic import SynthConfig, generate_session

SEEDS = range(8)


def _errors(snr_db: float, detector: str = "rms") -> tuple[list[float], int, int]:
    errors: list[float] = []
    missed = spurious = 0
    for seed in SEEDS:
        config = SynthConfig(snr_db=snr_db, seed=seed, lead_ms=(-100.0, 80.0) * 5)
        session = generate_session(config)
        result = analyze_recording(session.recording, ChainConfig(detector=detector))
        fs = config.fs
        for c, channel in enumerate(session.recording.channels):
            bursts = result.bursts_of(c)
            matched = set()
            for rep in session.truth["reps"]:
                true = rep[f"{channel.muscle}_onset_s"]
                near = [b for b in bursts if abs(b.onset / fs - true) < 0.25]
                if not near:
                    missed += 1
                    continue
                best = min(near, key=lambda b: abs(b.onset / fs - true))
                matched.add(best)
                errors.append(1000 * (best.onset / fs - true))
            spurious += len([b for b in bursts if b not in matched])
    return errors, missed, spurious


@pytest.mark.parametrize(("snr_db", "limit_ms"), [(20, 10), (10, 20), (5, 40)])
def test_median_onset_error(snr_db: float, limit_ms: float) -> None:
    errors, missed, spurious = _errors(snr_db)
    assert np.median(np.abs(errors)) <= limit_ms
    if snr_db >= 10:
        assert missed == 0 and spurious == 0


def test_tkeo_detector_is_as_accurate_at_low_snr() -> None:
    errors, missed, _ = _errors(5, detector="tkeo")
    assert np.median(np.abs(errors)) <= 40 and missed == 0
