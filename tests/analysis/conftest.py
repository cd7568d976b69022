"""Fixtures shared by the analysis tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from emg.io.csv_format import write_emg_csv
from emg.sources.synthetic import SynthConfig, generate_session


@pytest.fixture
def set_csv(tmp_path: Path) -> Path:
    """A synthetic 4-rep glute-first set at 20 dB, written as ``set.csv``."""
    session = generate_session(SynthConfig(reps=4, snr_db=20, seed=2))
    path = tmp_path / "set.csv"
    write_emg_csv(path, session.recording)
    return path
