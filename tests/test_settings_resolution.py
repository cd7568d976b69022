"""The settings of one recording (:func:`emg.settings_resolution.resolve_settings`): a rest
period and MVC references the recording cannot give are refused, naming what was given."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import emg
from emg.analysis.exercises import ExerciseConfig, exercise_preset
from emg.analysis.normalisation import MIN_MVC_UV
from emg.analysis.offline import analyze_recording
from emg.analysis.pipeline import AnalysisConfig
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError
from emg.io.csv_format import write_emg_csv
from emg.io.open_recording import open_recording
from emg.recording import Recording
from emg.session import LiveSession, run_session
from emg.settings_resolution import (
    SettingOverrides,
    library_overrides,
    normalisation,
    resolve_settings,
)
from emg.sources.replay import replay_blocks
from emg.sources.synthetic import SynthConfig, generate_session


@pytest.fixture(scope="module")
def recording() -> Recording:
    """Two reps at 2 kHz, 11 s (glute, hamstring)."""
    made = generate_session(SynthConfig(reps=2, seed=1)).recording
    return Recording(made.data, made.sample_rate, made.channels, source="set.csv")


@pytest.mark.parametrize(
    ("rest", "period"),
    [
        ((0.0, 100.0), "0-100 s ends"),
        ((40.0, 50.0), "40-50 s starts"),
        ((11.0, 12.0), "11-12 s starts"),
    ],
)
def test_a_rest_period_beyond_the_end_is_refused(
    recording: Recording, rest: tuple[float, float], period: str
) -> None:
    assert recording.duration_s == 11.0
    with pytest.raises(SettingError) as caught:
        resolve_settings(recording, library_overrides(rest=rest))
    assert caught.value.setting == "chain.rest"
    assert str(caught.value) == (
        f"chain.rest: the rest period {period} after the end of set.csv, which is 11.00 s "
        "long; give a quiet period within 0-11.00 s"
    )


def test_a_rest_period_to_the_last_sample_is_taken(recording: Recording) -> None:
    config = resolve_settings(recording, library_overrides(rest=(8.0, 11.0)))
    assert config.chain.rest == (8.0, 11.0)
    with pytest.raises(SettingError, match=r"^chain\.rest: the rest period must start at 0 s"):
        resolve_settings(recording, library_overrides(rest=(5.0, 3.0)))


def test_an_mvc_from_a_channel_with_no_signal_names_the_file_and_channel(
    recording: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = recording.data.copy()
    data[:, 0] = 0.0  # the glute
    write_emg_csv("flat.csv", Recording(data, recording.sample_rate, recording.channels))
    write_emg_csv("set.csv", recording)
    with pytest.raises(SettingError) as caught:
        normalisation({"glute": "flat.csv", "hamstring": "flat.csv"}, None, ChainConfig())
    assert str(caught.value) == (
        "mvc: glute=flat.csv: channel 'glute' of flat.csv has no signal (MVC amplitude 0 uV: "
        "flat, or its electrode was off); give a trial in which the muscle contracts, or a "
        "value (glute=310uv)"
    )
    # a segment of the recording analysed, and through emg.analyze
    flat = Recording(data, recording.sample_rate, recording.channels, source="flat.csv")
    with pytest.raises(SettingError, match=r"^mvc: glute=1-3: channel 'glute' of flat\.csv has "):
        resolve_settings(flat, library_overrides(mvc={"glute": "1-3", "hamstring": "1-3"}))
    with pytest.raises(SettingError, match=r"has no signal from 1 to 3 s \(MVC amplitude 0 uV"):
        emg.analyze("set.csv", mvc={"glute": "flat.csv:1-3", "hamstring": "set.csv"})
    # the hamstring of that file has a signal
    given = {"glute": "set.csv", "hamstring": "flat.csv"}
    mvc = normalisation(given, None, ChainConfig()).mvc_uv
    assert min(mvc.values()) > 10 * MIN_MVC_UV and np.isfinite(list(mvc.values())).all()


def _session(recording: Recording, folder: Path, **changes: object) -> Path:
    """``recording`` recorded as a session of the hip thrust, its ``session.json`` then
    changed: each field given set (``analysis``: None removes it)."""
    live = LiveSession(
        recording.channels,
        recording.sample_rate,
        AnalysisConfig(),
        folder,
        {"exercise": "hip-thrust"},
    )
    asyncio.run(run_session(replay_blocks(recording, speed=None), live))
    meta = json.loads((folder / "session.json").read_text())
    meta.update(changes)
    if meta.get("analysis") is None:
        del meta["analysis"]
    (folder / "session.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize("exercise", ["prone-hip-extension", "squat"])
def test_a_session_without_settings_is_analysed_as_the_exercise_it_names(
    recording: Recording, tmp_path: Path, exercise: str
) -> None:
    folder = _session(recording, tmp_path / "s", exercise=exercise, analysis=None)
    assert resolve_settings(open_recording(folder)).exercise == exercise_preset(exercise)
    assert emg.analyze(folder).settings.exercise == exercise_preset(exercise)
    # the exercise given overrides it; the rule's own settings change the recorded preset
    given = resolve_settings(open_recording(folder), library_overrides(exercise="hip-thrust"))
    assert given.exercise == exercise_preset("hip-thrust")
    margin = resolve_settings(open_recording(folder), SettingOverrides(margin_ms=70.0))
    assert margin.exercise == dataclasses.replace(exercise_preset(exercise), margin_ms=70.0)
    # settings without an exercise part: the exercise named, the other settings as recorded
    kept = _session(recording, tmp_path / "t", exercise=exercise)
    analysis = json.loads((kept / "session.json").read_text())["analysis"]
    del analysis["exercise"]
    partial = resolve_settings(
        open_recording(_session(recording, tmp_path / "u", exercise=exercise, analysis=analysis))
    )
    assert partial.exercise == exercise_preset(exercise)
    assert partial.chain == resolve_settings(open_recording(kept)).chain
    # settings that keep an exercise are used as they are
    assert resolve_settings(open_recording(kept)).exercise == exercise_preset("hip-thrust")


@pytest.mark.parametrize(("exercise", "named"), [("bench-press", "'bench-press'"), (5, "5")])
def test_an_exercise_the_toolkit_does_not_know_is_refused_naming_the_file(
    recording: Recording, tmp_path: Path, exercise: object, named: str
) -> None:
    folder = _session(recording, tmp_path / "s", exercise=exercise, analysis=None)
    expected = (
        f"{folder / 'session.json'}: exercise {named} is not one the toolkit knows "
        "(hip-thrust, prone-hip-extension, squat, custom)"
    )
    with pytest.raises(EmgInputError) as caught:
        resolve_settings(open_recording(folder))
    assert str(caught.value) == expected
    with pytest.raises(EmgInputError) as caught:
        emg.analyze(folder)
    assert str(caught.value) == expected
    # an exercise given is used instead
    assert emg.analyze(folder, exercise="squat").settings.exercise == exercise_preset("squat")


def test_a_custom_exercise_recorded_without_its_rule_needs_its_order(
    recording: Recording, tmp_path: Path
) -> None:
    folder = _session(recording, tmp_path / "s", exercise="custom", analysis=None)
    with pytest.raises(EmgInputError) as caught:
        resolve_settings(open_recording(folder))
    assert str(caught.value) == (
        f"{folder / 'session.json'}: exercise 'custom' is recorded without its rule (no "
        "'analysis.exercise'): give the expected order (glute-first, hamstring-first or any), "
        "or another exercise"
    )
    given = SettingOverrides(expected_order="any")
    assert resolve_settings(open_recording(folder), given).exercise == ExerciseConfig(
        "custom", "any"
    )


def test_a_recording_too_short_for_a_baseline_is_refused_with_its_recorded_settings(
    recording: Recording, tmp_path: Path
) -> None:
    """The settings of a session are resolved with no look at the recording for the mains
    (they keep it); its length is checked all the same, so that a replay refuses it as
    ``emg analyze`` does."""
    short = Recording(recording.data[:4000], recording.sample_rate, recording.channels)
    folder = _session(short, tmp_path / "s")
    expected = (
        f"{folder}: too little data for a baseline: 2.00 s (4000 samples) recorded, at least "
        "3 s needed (ideally a quiet rest at the start)"
    )
    session = open_recording(folder)
    with pytest.raises(EmgInputError) as caught:
        resolve_settings(session)
    assert str(caught.value) == expected
    config = resolve_settings(open_recording(_session(recording, tmp_path / "t")))
    with pytest.raises(EmgInputError) as caught:
        analyze_recording(session, config)
    assert str(caught.value) == expected
