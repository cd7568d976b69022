"""``emg.score`` and ``emg.analyze_many`` refuse what they cannot use in one line naming the
argument (or the truth's field, or the setting), before any work; valid calls are as before."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import emg
from emg.cli import main
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError


@pytest.fixture(scope="module")
def simulated() -> tuple[emg.Analysis, dict[str, Any]]:
    recording, truth = emg.simulate(reps=8, seed=1)  # 29 s
    return emg.analyze(recording), truth


def _one_line(error: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(error.value)
    assert "\n" not in text and len(text) < 400, text
    return text


def test_a_truth_that_does_not_fit_the_recording_is_refused_naming_the_field(
    simulated: tuple[emg.Analysis, dict[str, Any]], tmp_path: Path
) -> None:
    analysis, truth = simulated
    in_ms = copy.deepcopy(truth)
    for rep in in_ms["reps"]:
        rep["glute_onset_s"] *= 1000
        rep["hamstring_onset_s"] *= 1000
    with pytest.raises(EmgInputError, match="past the end of the recording") as raised:
        emg.score(analysis, in_ms)
    assert "reps[0].glute_onset_s" in _one_line(raised)
    other = {"reps": [{"glute_onset_s": 1.0, "hamstring_onset_s": 500.1}]}
    with pytest.raises(EmgInputError, match=r"500\.1 s is past the end .*\(29\.0 s\)") as raised:
        emg.score(analysis, other)
    assert "reps[0].hamstring_onset_s" in _one_line(raised)
    # the same refusal as emg validate --truth, for a file
    path = tmp_path / "other.truth.json"
    path.write_text(json.dumps(other))
    with pytest.raises(EmgInputError) as raised:
        emg.score(analysis, path)
    assert str(raised.value).startswith(f"{path}, column 'reps[0].hamstring_onset_s': 500.1 s")
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(EmgInputError, match="not a JSON text file"):
        emg.score(analysis, path)


@pytest.mark.parametrize(
    ("analysis", "truth", "argument"),
    [
        ("x", None, "analysis"),
        (None, None, "analysis"),
        (..., None, "truth"),
        (..., [1, 2], "truth"),
        (..., 5, "truth"),
    ],
)
def test_what_is_no_analysis_or_truth_is_refused_naming_it(
    simulated: tuple[emg.Analysis, dict[str, Any]], analysis: Any, truth: Any, argument: str
) -> None:
    real, real_truth = simulated
    given_analysis = real if analysis is ... else analysis
    given_truth = real_truth if truth is None and argument == "analysis" else truth
    with pytest.raises(EmgInputError) as raised:
        emg.score(given_analysis, given_truth)
    assert _one_line(raised).startswith(f"{argument}: must be")


def test_a_truth_that_fits_is_scored_as_before(
    simulated: tuple[emg.Analysis, dict[str, Any]],
) -> None:
    analysis, truth = simulated
    scoring = emg.score(analysis, truth)
    assert scoring.summary["true_reps"] == 8 and scoring.summary["onset"]["missed"] == 0
    assert scoring.summary["onset"]["spurious"] == 0 and len(scoring.reps) == 8


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("batch")
    for seed in (1, 2):
        assert (
            main(["synth", str(data / f"set{seed}.csv"), "--reps", "3", "--seed", str(seed)]) == 0
        )
    return data


@pytest.mark.parametrize(
    ("paths", "where", "what"),
    [
        (None, "paths", "got NoneType"),
        (np.zeros((10, 2)), "paths", "got ndarray: a recording in memory is analysed with emg"),
        ([], "paths", "none given"),
        ([None], "paths[0]", "got NoneType"),
        (["x.csv", 5], "paths[1]", "got int"),
    ],
)
def test_what_is_no_path_is_refused_naming_it(paths: Any, where: str, what: str) -> None:
    with pytest.raises(EmgInputError) as raised:
        emg.analyze_many(paths)
    text = _one_line(raised)
    assert text.startswith(f"{where}: must be") and what in text


def test_a_recording_given_as_a_path_is_named_without_its_samples() -> None:
    recording, _ = emg.simulate(reps=2)
    with pytest.raises(EmgInputError) as raised:
        emg.analyze_many([recording])
    assert _one_line(raised) == (
        "paths[0]: must be a path (str or os.PathLike), got Recording: a recording in memory "
        "is analysed with emg.analyze"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": -1}, "workers: must be at least 1, got -1"),  # hung for ever
        ({"workers": 0}, "workers: must be at least 1, got 0"),  # as --workers 0
        ({"workers": "2"}, "workers: must be a whole number from 1, got '2'"),
        ({"workers": 1.5}, "workers: must be a whole number from 1, got 1.5"),
        ({"workers": True}, "workers: must be a whole number from 1, got True"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "workers: sizes the local cluster"),
        ({"scheduler": 8786}, "scheduler: must be the scheduler's address"),
        ({"channels": ["glute", "hamstring"]}, "channels: expected MUSCLE=CHANNEL"),
        ({"channels": {"glute": 1}}, "channels: 'glute': 1: a muscle and a channel name are"),
        ({"channels": {"calf": "EMG1"}}, "channels: unknown muscle 'calf'"),
    ],
)
def test_arguments_that_cannot_be_used_are_refused_before_any_work(
    folder: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(EmgInputError) as raised:
        emg.analyze_many([folder], **options)
    assert _one_line(raised).startswith(message)


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        ({"exercise": "deadlift"}, "exercise"),
        ({"mains": "hum"}, "mains"),
        ({"rest": (-5.0, 2.0)}, "chain.rest"),
        ({"refinement": "nope"}, "chain.refinement"),
        ({"refinement": "cusum", "lead": "edges"}, "reps.lead"),
    ],
)
def test_a_setting_no_recording_can_use_is_refused_as_analyze_refuses_it(
    folder: Path, settings: dict[str, Any], setting: str
) -> None:
    # before: every recording "failed", an empty table, the reason only in attrs["failures"]
    with pytest.raises(SettingError) as raised:
        emg.analyze_many([folder], workers=1, **settings)
    assert raised.value.setting == setting
    with pytest.raises(SettingError) as alone:
        emg.analyze(folder / "set1.csv", **settings)
    assert str(alone.value) == str(raised.value)


def test_valid_settings_give_each_recording_as_analyze_gives_it(folder: Path) -> None:
    reps = emg.analyze_many(folder / "set1.csv", exercise="squat", mains="off", rest=(0.5, 2.5))
    alone = emg.analyze(folder / "set1.csv", exercise="squat", mains="off", rest=(0.5, 2.5)).reps
    assert len(reps) == len(alone) == 3 and reps.attrs["failures"].empty
    assert list(reps["order"]) == list(alone["order"])
    np.testing.assert_allclose(reps["lead_ms"], alone["lead_ms"], rtol=1e-9)
    many = emg.analyze_many(
        [str(folder)], channels={"glute": "glute", "hamstring": "hamstring"}, workers=1
    )
    assert set(many["session"]) == {str(folder / "set1.csv"), str(folder / "set2.csv")}
    # the channels as emg.read takes them in either form
    listed = emg.analyze_many([str(folder)], channels=["glute=glute", "hamstring=hamstring"])
    pd.testing.assert_frame_equal(listed, many)


def test_a_script_read_from_standard_input_analyses_here_and_says_so(folder: Path) -> None:
    # before: Dask's worker processes re-ran the main script "<stdin>", which is no file:
    # a "Nanny failed to start" traceback, no table
    script = (
        "import sys, emg\n"
        f"reps = emg.analyze_many([{str(folder)!r}], workers=2)\n"
        "reps.to_csv(sys.stdout, index=False)\n"
    )
    run = subprocess.run(
        [sys.executable, "-"], input=script, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert "worker processes cannot start from a script read from standard input" in run.stderr
    assert "Traceback" not in run.stderr
    table = pd.read_csv(io.StringIO(run.stdout))
    here = emg.analyze_many([str(folder)], workers=1)
    assert list(table["session"]) == list(here["session"]) and len(table) == 6
    np.testing.assert_allclose(table["lead_ms"], here["lead_ms"], rtol=1e-9)
