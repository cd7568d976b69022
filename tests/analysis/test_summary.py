"""The analysis summary's words about its levels: an MVC trial that was no maximal contraction
(a rest stretch given as the MVC) is said, a real one is not; and about its channels: one in no
glute/hamstring pair is said, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

import emg
from emg.analysis.summary import format_table
from emg.block import Channel
from emg.cli import main
from emg.recording import Recording


def _said(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    capsys.readouterr()
    assert main(["analyze", *argv]) == 0
    return [line.strip() for line in capsys.readouterr().out.splitlines() if "%MVC:" in line]


def test_an_mvc_taken_from_rest_is_said(set_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mvc = [f"--mvc=glute={set_csv}:0-2", f"--mvc=hamstring={set_csv}:0-2"]  # the lead-in: rest
    said = _said(capsys, str(set_csv), *mvc)
    assert [line.split(":")[0] for line in said] == ["glute", "hamstring"]
    for line in said:
        median = float(line.split("median level is ")[1].split(" %MVC")[0])
        assert median > 300
        assert line.endswith(
            "%MVC: the --mvc value or trial was no maximal contraction (a rest stretch?); give one"
        )
    # a stretch of the first rep's contraction: levels about 100 %MVC, nothing said
    rep = [f"--mvc=glute={set_csv}:3-5", f"--mvc=hamstring={set_csv}:3-5"]
    assert _said(capsys, str(set_csv), *rep) == []
    assert _said(capsys, str(set_csv)) == []  # levels in multiples of rest


def test_the_table_says_a_cramp_risk_resting_on_few_reps_says_little() -> None:
    recording, _ = emg.simulate(emg.DEMO_SET, seed=2, loss=0.3)
    summary = emg.analyze(recording).to_dict()
    called = sum(r["order"] is not None for r in summary["reps"])
    assert 2 * called < len(summary["reps"])
    line = next(x for x in format_table(summary).splitlines() if x.startswith("cramp risk"))
    assert line == (
        f"cramp risk: ok (only {called} of {len(summary['reps'])} reps could be called: it says "
        "little)"
    )
    clean, _ = emg.simulate(emg.DEMO_SET, seed=2, lead_ms=80.0, fatigue=0.0)
    assert "\ncramp risk: ok\n" in format_table(emg.analyze(clean).to_dict())


def test_the_band_shown_is_the_one_the_chain_used() -> None:
    # at 250 Hz the upper edge asked for (450 Hz) is above Nyquist: the chain takes 0.45 fs
    recording, _ = emg.simulate(reps=3, fs=250.0, seed=1)
    summary = emg.analyze(recording).to_dict()
    assert summary["bandpass_hz"] == [20.0, 112.5]
    assert summary["settings"]["lowpass_hz"] == 450.0  # as asked: to run the analysis again
    assert (
        format_table(summary)
        .splitlines()[1]
        .startswith(
            "band-pass 20-112.5 Hz (450 Hz asked: at most 0.45 x the sample rate), RMS 50 ms"
        )
    )
    # a rate that holds the whole band: the band as asked, and no word of a limit
    summary = emg.analyze(emg.simulate(reps=3, seed=1)[0]).to_dict()
    assert summary["bandpass_hz"] == [20.0, 450.0]
    assert format_table(summary).splitlines()[1].startswith("band-pass 20-450 Hz, RMS 50 ms")


def _without(recording: Recording, label: str) -> Recording:
    keep = [i for i, c in enumerate(recording.channels) if c.label != label]
    return Recording(
        recording.data[:, keep], recording.sample_rate, tuple(recording.channels[i] for i in keep)
    )


def test_a_channel_without_a_partner_on_its_side_is_said() -> None:
    """glute_left, hamstring_left and glute_right: the right glute was in no rep, and
    nothing said so."""
    both, _ = emg.simulate(reps=4, seed=1, sides=True)
    summary = emg.analyze(_without(both, "hamstring_right")).to_dict()
    reason = "glute_right has no hamstring channel on its side: it is in no rep"
    assert summary["unpaired"] == [
        {"label": "glute_right", "group": "glute", "side": "right", "reason": reason}
    ]
    assert [pair["side"] for pair in summary["pairs"]] == ["left"]
    assert {rep["side"] for rep in summary["reps"]} == {"left"}
    text = format_table(summary).splitlines()
    assert text.count(reason) == 1
    assert text[text.index(reason) - 1].startswith("hip-thrust: expected glute-first")
    # both sides paired: nothing unpaired, nothing said
    summary = emg.analyze(both).to_dict()
    assert summary["unpaired"] == []
    assert "in no rep" not in format_table(summary)


def test_channels_in_no_pair_at_all_are_said_with_their_reasons() -> None:
    both, _ = emg.simulate(reps=3, seed=1, sides=True)
    names = {"glute_left": "glute", "hamstring_left": "hamstring_left"}
    recording = _without(_without(both, "glute_right"), "hamstring_right")
    recording = Recording(
        recording.data,
        recording.sample_rate,
        tuple(Channel.from_name(names[c.label]) for c in recording.channels),
    )
    summary = emg.analyze(recording).to_dict()
    assert summary["pairs"] == [] and summary["reps"] == []
    text = format_table(summary)
    assert (
        "no glute/hamstring pair of channels: no reps, order or flag\n"
        "glute names no side, and no hamstring channel is without one: it is in no rep\n"
        "hamstring_left has no glute channel on its side: it is in no rep\n"
    ) in text + "\n"
