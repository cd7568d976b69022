"""Every readable format of one session gives the same samples and the same analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emg
from emg.analysis.offline import analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.dsp.chain import ChainConfig
from emg.io.bids_format import export_bids
from emg.io.csv_format import write_emg_csv
from emg.io.edf_format import write_bdf
from emg.io.open_recording import open_recording, recording_format
from emg.recording import Recording

EXAMPLE = Path(__file__).resolve().parents[2] / "recordings" / "examples" / "hip-thrust-synthetic"


@pytest.fixture(scope="module")
def example() -> Recording:
    return open_recording(EXAMPLE)


def test_example_session_is_the_promised_set(example: Recording) -> None:
    reps = [e.data for e in example.events if e.kind == "rep"]
    assert [r["order"] for r in reps] == ["glute-first"] * 4 + ["hamstring-first"] * 4
    flags = [e.data for e in example.events if e.kind == "flag"]
    assert [(f["flag"], f["reps"]) for f in flags] == [("hamstring-first", [5, 6])]
    assert example.metadata["status"] == "complete"
    assert (EXAMPLE / "truth.json").is_file()


def test_every_format_reads_the_same_set(example: Recording, tmp_path: Path) -> None:
    write_bdf(tmp_path / "set.bdf", example)
    write_emg_csv(tmp_path / "set.csv", example)
    export_bids(example, tmp_path / "bids")
    paths = {
        "bids": EXAMPLE / "bids",
        "edf": tmp_path / "set.bdf",
        "csv": tmp_path / "set.csv",
    }
    config = AnalysisConfig(chain=ChainConfig(mains_hz=50.0))
    reference = analyze_recording(example, config)
    for kind, path in paths.items():
        assert recording_format(path) == kind
        other = open_recording(path)
        assert [c.label for c in other.channels] == ["glute", "hamstring"]
        assert other.n_samples == example.n_samples
        np.testing.assert_allclose(other.data, example.data, atol=2e-3)
        result = analyze_recording(other, config)
        assert [r.order for r in result.reps] == [r.order for r in reference.reps]
        leads = np.array([r.lead_ms for r in result.reps], dtype=float)
        np.testing.assert_allclose(leads, [r.lead_ms for r in reference.reps], atol=1.0)
    (bdf,) = (tmp_path / "bids").rglob("*_emg.bdf")
    assert recording_format(bdf) == "bids"
    assert recording_format(EXAMPLE / "session.json") == "native"


def test_the_examples_bids_export_gives_the_sessions_numbers() -> None:
    """The export carries the analysis settings the session was recorded with, so reading it
    back gives the session's reps, leads and flags (an export from before it carried them
    did not, with the same samples)."""
    session, export = emg.analyze(EXAMPLE).to_dict(), emg.analyze(EXAMPLE / "bids").to_dict()
    assert export["reps"] == session["reps"] and export["flags"] == session["flags"]
    assert export["settings"] == session["settings"]
