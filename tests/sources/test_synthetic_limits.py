"""The synthetic generator refuses what it cannot simulate (a wrong truth, or an error deep in
NumPy), in one line naming the setting and what it may be; valid sets do not change."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import emg
from emg.cli import main
from emg.errors import EmgInputError
from emg.io.json_files import to_json
from emg.sources.synthetic import DEMO_SET, SynthConfig, generate_session


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # truths that would be wrong: onsets before the start, past the end, levels and ratios
        # of no meaning
        ({"rest_s": -1.0}, "rest_s must be from 0 to 600 s, got -1"),
        ({"end_rest_s": -5.0}, "end_rest_s must be from 0 to 600 s, got -5"),
        (
            {"glute_level": -1.0},
            r"glute_level must be from 0.01 to 1 \(a fraction of the MVC\), got -1",
        ),
        ({"hamstring_level": 0.0}, "hamstring_level must be from 0.01 to 1"),
        ({"level_jitter": 2.0}, r"level_jitter must be in \[0, 1\), got 2"),
        ({"period_jitter_s": -0.5}, "period_jitter_s must be from 0 to 10 s"),
        ({"mains_hz": 55.0}, r"mains_hz must be 50 or 60 \(Hz\), got 55"),
        ({"decay_s": 0.0}, "decay_s must be from 0.001 to 1 s"),
        ({"cramp_rise_s": 0.0}, "cramp_rise_s must be from 0.001 to 60 s"),
        # NumPy's broadcasting message before
        ({"rest_s": -3.0}, "rest_s must be from 0 to 600 s, got -3"),
        ({"active_s": 0.0}, r"active_s must be at least 0\.29 s here \(ramp_s \+ decay_s"),
        ({"active_s": 0.5, "lead_ms": 1000.0}, "active_s must be at least 0.75 s here"),
        ({"reps": 5000, "rep_period_s": 600.0}, "must be at most 18000 s"),
        # numpy's "expected non-negative integer", and raw TypeErrors
        ({"seed": -1}, "seed must be a whole number from 0 up, got -1"),
        ({"seed": "a"}, "seed must be a whole number, got 'a'"),
        ({"seed": 1.5}, "seed must be a whole number, got 1.5"),
        ({"reps": 1.5}, "reps must be a whole number, got 1.5"),
        ({"reps": "3"}, "reps must be a whole number, got '3'"),
        ({"reps": None}, "reps must be a whole number, got None"),
        ({"cramp_rep": True}, "cramp_rep must be a whole number, got True"),
        ({"sides": "yes"}, "sides must be True or False, got 'yes'"),
        ({"snr_db": "20"}, "snr_db must be a number, got '20'"),
        ({"lead_ms": "80"}, "lead_ms must be a number or one number per rep, got '80'"),
    ],
)
def test_a_setting_the_generator_cannot_simulate_is_named(
    changes: dict[str, object], message: str
) -> None:
    config = dataclasses.replace(SynthConfig(), **changes)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        config.validate()
    with pytest.raises(EmgInputError, match=message) as raised:  # the library says the same
        emg.simulate(**changes)
    assert "\n" not in str(raised.value)


def test_simulate_refuses_what_is_no_config_and_leads_that_are_no_numbers() -> None:
    with pytest.raises(EmgInputError, match=r"config must be a SynthConfig .* got dict"):
        emg.simulate({"reps": 3})  # type: ignore[arg-type]
    with pytest.raises(EmgInputError, match="lead_ms must be a number or one number per rep"):
        emg.simulate(reps=2, lead_ms=["a", 80])
    # a list of leads, NumPy's numbers included, as before
    _, truth = emg.simulate(reps=2, lead_ms=np.array([-80, 80]), seed=np.int64(3))
    assert [rep["lead_ms"] for rep in truth["reps"]] == [-80.0, 80.0]


def test_valid_sets_are_as_before() -> None:
    # the truth of the built-in set and of a set at the new limits' edges, as the generator
    # gave them before it checked them
    session = generate_session(DEMO_SET)
    onsets = [rep["glute_onset_s"] for rep in session.truth["reps"][:3]]
    assert onsets == pytest.approx([3.250038, 6.120067, 9.318828], abs=1e-6)
    assert session.truth["duration_s"] == 29.0
    edge = SynthConfig(reps=3, seed=4, rest_s=0.0, end_rest_s=0.0, level_jitter=0.0)
    truth = generate_session(edge).truth
    assert [rep["glute_onset_s"] for rep in truth["reps"]] == pytest.approx(
        [0.377222, 3.242942, 6.348654], abs=1e-6
    )
    assert truth["duration_s"] == 9.0 and all(
        rep["ratio"] == pytest.approx(1.5) for rep in truth["reps"]
    )
    # every true onset and offset lies within the recording
    for rep in truth["reps"]:
        for key in ("glute_onset_s", "hamstring_onset_s", "glute_offset_s", "hamstring_offset_s"):
            assert 0 <= rep[key] <= truth["duration_s"]


def test_emg_synth_goes_through_the_same_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "set.csv"
    assert main(["synth", str(out), "--seed", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("seed must be a whole number from 0 up, got -1") and "\n" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    "sides",
    [np.True_, np.bool_(1), np.array([True])[0]],
    ids=["np.True_", "np.bool_(1)", "an array's element"],
)
def test_sides_takes_numpy_bools_as_python_bools(sides: object) -> None:
    config = SynthConfig(reps=2, seed=3, sides=sides)  # type: ignore[arg-type]
    config.validate()
    both = generate_session(config).recording
    assert [c.label for c in both.channels] == [
        "glute_left",
        "hamstring_left",
        "glute_right",
        "hamstring_right",
    ]
    python_bool = generate_session(SynthConfig(reps=2, seed=3, sides=True)).recording
    assert np.array_equal(both.data, python_bool.data)
    recording, truth = emg.simulate(reps=2, seed=3, sides=sides)
    assert np.array_equal(recording.data, both.data)
    assert json.loads(to_json(truth))["config"]["sides"] is True  # the truth file says so
    one, _ = emg.simulate(reps=2, seed=3, sides=np.False_)
    assert [c.label for c in one.channels] == ["glute", "hamstring"]
    # what is not a bool is still refused, in one line
    for other in (1, np.int64(1), 1.0, "True", None, np.array([True]), [True]):
        with pytest.raises(EmgInputError) as raised:
            emg.simulate(reps=2, sides=other)
        assert str(raised.value) == f"sides must be True or False, got {other!r}"
