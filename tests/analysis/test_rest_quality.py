"""The rest signal-quality check in the analysis (``emg analyze`` prints its problems, the JSON
summary and the report carry it): a dead channel and a rest period laid over the reps are
said, a clean set says nothing."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

import emg
from emg.analysis.rest_quality import rest_activity
from emg.analysis.signal_quality import QualityConfig
from emg.cli import main


def _analyze(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    capsys.readouterr()
    assert main(["analyze", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def test_a_clean_set_has_no_rest_check_line_and_an_ok_check(
    set_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not [line for line in _analyze(capsys, str(set_csv)) if "rest check" in line]
    summary = json.loads("\n".join(_analyze(capsys, str(set_csv), "--json")))
    quality = summary["rest_quality"]
    assert quality["ok"] is True and quality["origin"].startswith("on the quiet stretch")
    assert [c["label"] for c in quality["channels"]] == ["glute", "hamstring"]


def test_a_dead_channel_is_said_in_the_analysis(
    set_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = set_csv.read_text().splitlines()
    header = text[0].split(",")
    column = header.index("glute")
    rows = [line.split(",") for line in text[1:]]
    for row in rows:
        row[column] = "0"
    set_csv.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n")
    lines = [line for line in _analyze(capsys, str(set_csv)) if "rest check" in line]
    assert len(lines) == 1
    assert re.fullmatch(
        r"rest check \(on the quiet stretch before the first onset, 0–\d+\.\d s \(no rest "
        r"period given\)\): glute: no signal: stuck at one value \(0 uV\) for \d+\.\d s, as if "
        r"the electrode or the lead were disconnected",
        lines[0],
    ), lines[0]


def test_a_rest_period_over_the_reps_is_said(
    set_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [line for line in _analyze(capsys, str(set_csv), "--rest", "3-8") if "rest" in line]
    said = [line for line in lines if line.startswith("rest check (on the rest period 3–8 s)")]
    noise = [line for line in said if "resting noise is " in line]
    assert [line.split(": ")[1] for line in noise] == ["glute", "hamstring"]
    levels = [float(line.split("resting noise is ")[1].split(" uV")[0]) for line in noise]
    assert all(level > 20 for level in levels) and np.isfinite(levels).all()
    active = [line for line in said if "not at rest there" in line]
    assert [line.split(": ")[1] for line in active] == ["glute", "hamstring"]


@pytest.mark.parametrize("rest", ["2.5-4.5", "3.3-4.6"])
def test_a_rest_period_over_one_burst_is_said_though_its_noise_is_within_the_limit(
    rest: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo set with the rest laid over its first rep (3.3-4.6 s is 1.3 s, inside it):
    nothing was said, and the analysis found no rep at all."""
    assert main(["demo", "--out", str(tmp_path)]) == 0
    path = str(tmp_path / "demo.csv")
    lines = [line for line in _analyze(capsys, path, "--rest", rest) if "rest check" in line]
    active = [line for line in lines if "not at rest there" in line]
    assert [line.split(": ")[1] for line in active] == ["glute", "hamstring"]
    ratio = float(active[0].split(" is ")[1].split(" times")[0])
    assert ratio > 3
    # a rest where the athlete is at rest says nothing of the kind
    quiet = _analyze(capsys, path, "--rest", "0.5-2.5")
    assert not [line for line in quiet if "rest check" in line]


def test_a_dropout_is_not_taken_for_the_quietest_stretch() -> None:
    """A sensor lost for the last 4 s (filled with zeros) made a real rest '99.5 times as
    strong as the quietest stretches'; lost samples and the ringing after them are left out."""
    recording, _ = emg.simulate(emg.DEMO_SET)
    data, lost = recording.data.copy(), recording.lost.copy()
    data[-8000:, 1], lost[-8000:, 1] = 0.0, True
    dropped = dataclasses.replace(recording, data=data, lost=lost)
    quality = emg.analyze(dropped, rest=(0.5, 2.5)).to_dict()["rest_quality"]
    assert quality["ok"] is True
    config = QualityConfig(mains_hz=50.0)
    fs = recording.sample_rate
    quiet = rest_activity(data, fs, (0.5, 2.5), config, lost)
    assert np.all((quiet > 0.9) & (quiet < 1.3))
    assert rest_activity(data, fs, (0.5, 2.5), config)[1] > 10  # as it was, lost not given
    assert np.all(rest_activity(data, fs, (3.0, 6.0), config, lost) > 4)  # a rep is still said
