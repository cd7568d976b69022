"""The library's public calls give exactly what the command gives."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import emg
from emg.cli import main
from emg.dsp.chain_limits import SettingError
from emg.errors import EmgInputError

EXAMPLE = Path(__file__).resolve().parents[1] / "recordings" / "examples" / "hip-thrust-synthetic"


def _cli_json(*args: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["analyze", *args, "--json"]) == 0
    data: dict = json.loads(out.getvalue())
    return data


@pytest.fixture(scope="module")
def hum_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six reps at 10 dB with 100 µV of 60 Hz mains: mains auto must find the notch."""
    path = tmp_path_factory.mktemp("hum") / "hum.csv"
    args = ["synth", str(path), "--reps", "6", "--snr-db", "10", "--mains-uv", "100"]
    assert main([*args, "--mains-hz", "60", "--seed", "4"]) == 0
    return path


def test_analyze_of_a_session_is_what_the_command_prints() -> None:
    analysis = emg.analyze(str(EXAMPLE))
    assert analysis.to_dict() == _cli_json(str(EXAMPLE))
    reps = analysis.reps
    assert len(reps) == 8 and {"order", "lead_ms", "ratio", "start_s"} <= set(reps.columns)
    assert list(reps["order"][:4]) == ["glute-first"] * 4
    assert list(reps["order"][4:]) == ["hamstring-first"] * 4
    assert analysis.cramp_risk is not None
    # one row per burst, named by its channel, with the summary's fields
    bursts = analysis.bursts
    per_channel = analysis.to_dict()["bursts"]
    assert list(bursts["channel"]) == [c for c, rows in per_channel.items() for _ in rows]
    assert bursts.groupby("channel").size().to_dict() == {"glute": 8, "hamstring": 8}
    first = per_channel["glute"][0]
    assert bursts.iloc[0].drop("channel").to_dict() == first
    assert (bursts["offset_s"] > bursts["onset_s"]).all()


def test_analyze_resolves_mains_auto_as_the_command_does(hum_set: Path) -> None:
    analysis = emg.analyze(hum_set)
    cli = _cli_json(str(hum_set))
    assert analysis.to_dict() == cli
    assert analysis.settings.chain.mains_hz == 60.0
    truth = json.loads(hum_set.with_suffix(".truth.json").read_text())
    assert len(analysis.reps) == len(truth["reps"]) == 6


def test_settings_given_to_analyze_are_the_options_of_the_command(hum_set: Path) -> None:
    analysis = emg.analyze(
        hum_set,
        exercise="squat",
        mvc={"glute": "300uv", "hamstring": 250.0},
        rest=(0.5, 2.0),
        refinement="edge",
        lead="edges",
    )
    cli = _cli_json(
        str(hum_set),
        "--exercise", "squat", "--mvc", "glute=300uv", "--mvc", "hamstring=250uv",
        "--rest", "0.5-2", "--refinement", "edge", "--lead-from", "edges",
    )  # fmt: skip
    assert analysis.to_dict() == cli
    assert analysis.settings.exercise.name == "squat"
    assert analysis.settings.chain.refinement == "edge"
    assert analysis.settings.reps.lead == "edges"
    assert analysis.to_dict()["normalisation"]["method"] == "mvc"


def test_an_array_with_its_rate_and_channel_names_gives_the_files_reps(hum_set: Path) -> None:
    recording = emg.read(hum_set)
    from_array = emg.analyze(
        recording.data, fs=recording.sample_rate, channels=["glute", "hamstring"]
    )
    from_file = emg.analyze(hum_set)
    assert from_array.recording.source == "array"
    assert from_array.to_dict()["reps"] == from_file.to_dict()["reps"]
    assert from_array.to_dict()["bursts"] == from_file.to_dict()["bursts"]
    # a recording read with channels named, as --channel names them
    renamed = emg.read(hum_set, {"glute": "glute", "hamstring": "hamstring"})
    assert [c.label for c in renamed.channels] == ["glute", "hamstring"]


def test_bad_input_to_the_library_is_one_clear_error(hum_set: Path) -> None:
    with pytest.raises(EmgInputError, match=r"\(n_samples, n_channels\)"):
        emg.analyze(np.zeros(100), fs=2000.0, channels=["glute"])
    with pytest.raises(EmgInputError, match="fs and a list of channel names"):
        emg.analyze(np.zeros((100, 2)))
    with pytest.raises(EmgInputError, match="2 channel names for 3 columns"):
        emg.analyze(np.zeros((100, 3)), fs=2000.0, channels=["glute", "hamstring"])
    with pytest.raises(EmgInputError, match="calf"):
        emg.analyze(np.zeros((100, 2)), fs=2000.0, channels=["glute", "calf"])
    with pytest.raises(SettingError) as problem:
        emg.analyze(hum_set, refinement="nope")
    assert problem.value.setting == "chain.refinement"
    with pytest.raises(SettingError) as problem:
        emg.analyze(hum_set, lead="mean")
    assert problem.value.setting == "reps.lead" and "steady, edges" in problem.value.reason
    with pytest.raises(SettingError) as problem:
        emg.analyze(hum_set, exercise="bench press")
    assert problem.value.setting == "exercise" and "hip-thrust" in problem.value.reason
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        emg.nope  # noqa: B018


PUBLIC = EXAMPLE.parents[1] / "public"


@pytest.mark.parametrize("name", ["biosppy_emg_1.csv", "uci_5Nmar.csv"])
def test_analyze_of_real_recordings_is_what_the_command_prints(name: str) -> None:
    path = PUBLIC / name
    assert emg.analyze(path).to_dict() == _cli_json(str(path))


def test_analyze_of_a_session_recorded_live_is_what_the_command_prints(tmp_path: Path) -> None:
    assert main(["record", "--duration", "12", "--out", str(tmp_path)]) == 0
    (session,) = (f for f in tmp_path.iterdir() if f.is_dir())
    analysis = emg.analyze(session)
    assert analysis.to_dict() == _cli_json(str(session))
    # analysed with the settings it was recorded with, and giving the reps it recorded
    recorded = [e.data for e in analysis.recording.events if e.kind == "rep"]
    assert [r["order"] for r in analysis.to_dict()["reps"]] == [r["order"] for r in recorded]


def test_simulate_is_emg_synth_and_its_truth(tmp_path: Path) -> None:
    recording, truth = emg.simulate(emg.DEMO_SET)
    assert recording.sample_rate == 2000.0 and [c.label for c in recording.channels] == [
        "glute",
        "hamstring",
    ]
    analysis = emg.analyze(recording)
    assert list(analysis.reps["order"]) == [rep["order"] for rep in truth["reps"]]
    # options as emg synth takes them; the same set as the command writes
    recording, truth = emg.simulate(reps=4, lead_ms=[-80, 80, -80, 80], snr_db=10, seed=2)
    assert [rep["lead_ms"] for rep in truth["reps"]] == [-80.0, 80.0, -80.0, 80.0]
    out = tmp_path / "set.csv"
    args = ["synth", str(out), "--reps", "4", "--lead-ms", "-80,80,-80,80", "--snr-db", "10"]
    assert main([*args, "--seed", "2"]) == 0
    written = json.loads(out.with_suffix(".truth.json").read_text())
    assert written == json.loads(json.dumps(truth))
    assert np.allclose(emg.read(out).data, recording.data, atol=0.01)
    with pytest.raises(EmgInputError, match="no such option of the synthetic set: snr"):
        emg.simulate(snr=10)
    with pytest.raises(EmgInputError):
        emg.simulate(reps=0)


def test_import_emg_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, emg; print(sorted(m for m in ('scipy', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_score_is_what_validate_truth_prints(hum_set: Path) -> None:
    truth = hum_set.with_suffix(".truth.json")
    scoring = emg.score(emg.analyze(hum_set), truth)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["validate", "--truth", str(truth), str(hum_set), "--json"]) == 0
    printed = json.loads(out.getvalue())
    assert {"file": str(hum_set), "truth": str(truth), **scoring.summary} == printed
    assert len(scoring.reps) == 6 and scoring.summary["onset"]["missed"] == 0
    reps = scoring.reps  # the lead's error per rep, as the analysis's lead less the truth's
    truth_leads = [r["lead_ms"] for r in json.loads(truth.read_text())["reps"]]
    assert list(reps["true_lead_ms"]) == pytest.approx(truth_leads, abs=0.051)
    assert list(reps["lead_error_ms"]) == pytest.approx(
        list(reps["lead_ms"] - reps["true_lead_ms"]), abs=0.11
    )
    assert reps["lead_error_ms"].abs().max() < 30
    # the truth's contents do as well as its file
    assert emg.score(emg.analyze(hum_set), json.loads(truth.read_text())).summary == scoring.summary
    with pytest.raises(EmgInputError, match="reps"):
        emg.score(emg.analyze(hum_set), {"onsets": []})


def test_plot_gives_the_reports_figures(tmp_path: Path) -> None:
    from emg.report.figures import png_bytes

    figures = emg.analyze(EXAMPLE).plot()
    assert list(figures) == ["envelopes", "lead", "ratio", "timeline"]
    assert (
        main(["report", str(EXAMPLE), "--out", str(tmp_path / "r.html"), "--png", str(tmp_path)])
        == 0
    )
    for name, figure in figures.items():
        assert png_bytes(figure) == (tmp_path / f"{name}.png").read_bytes(), name


def test_analyze_many_is_the_batch_table(tmp_path: Path) -> None:
    import pandas as pd

    data = tmp_path / "data"
    data.mkdir()
    for seed in (1, 2):
        assert (
            main(["synth", str(data / f"set{seed}.csv"), "--reps", "3", "--seed", str(seed)]) == 0
        )
    (data / "broken.csv").write_text("time,glute\n0,1\n0.001,x\n")
    table = tmp_path / "reps.csv"
    assert main(["analyze", str(data), "--out", str(table), "--workers", "1"]) == 1
    reps = emg.analyze_many([data], workers=1)
    expected = pd.read_csv(table)
    assert len(reps) == len(expected) == 6
    assert list(reps["session"]) == list(expected["session"])
    assert list(reps["order"]) == list(expected["order"])
    np.testing.assert_allclose(reps["lead_ms"], expected["lead_ms"], rtol=1e-9)
    (failure,) = reps.attrs["failures"].itertuples()
    assert failure.session.endswith("broken.csv") and "line 3" in failure.error
    with pytest.raises(EmgInputError, match="not a setting of an analysis: hold"):
        emg.analyze_many([data], hold=0.1)


def test_live_settings_are_resolved_by_the_library() -> None:
    from emg.settings_resolution import SettingOverrides, resolve_live_settings

    assert resolve_live_settings().chain.mains_hz == 50.0  # nothing to look ahead in
    assert resolve_live_settings(source_mains_hz=60.0).chain.mains_hz == 60.0
    given = SettingOverrides(
        mains="off", exercise="squat", mvc={"glute": "300uv", "hamstring": 250}
    )
    settings = resolve_live_settings(given, 60.0)
    assert settings.chain.mains_hz is None and settings.exercise.name == "squat"
    assert settings.normalisation.method() == "mvc"
    with pytest.raises(SettingError) as problem:
        resolve_live_settings(SettingOverrides(mvc={"glute": "1-2", "hamstring": "250uv"}))
    assert problem.value.setting == "mvc" and "needs a recording" in problem.value.reason


def _validate_json(*args: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["validate", *args, "--json"]) == 0
    data: dict = json.loads(out.getvalue())
    return data


def test_validate_gives_the_commands_tables_as_dataframes() -> None:
    import pandas as pd

    tables = emg.validate(snr_db=[20], leads_ms=[-80, 80], seeds=1, reps=3)
    printed = _validate_json("--snr-db", "20", "--lead-ms=-80,80", "--seeds", "1", "--reps", "3")
    assert tables["order"].to_dict("records") == printed["order"]
    assert tables["onsets"].to_dict("records") == printed["onsets"]
    assert tables["decision_delay_ms"].iloc[0].to_dict() == printed["decision_delay_ms"]
    families = emg.validate("motor-unit", leads_ms=[80], seeds=1, reps=2, fs=1000)
    printed = _validate_json(
        "--family", "motor-unit", "--lead-ms", "80", "--seeds", "1", "--reps", "2", "--fs", "1000"
    )
    expected = pd.json_normalize(printed["conditions"])
    pd.testing.assert_frame_equal(families["conditions"], expected)
    assert families["targets"].to_dict("records") == printed["targets"]
    with pytest.raises(EmgInputError, match="unknown family 'nope'"):
        emg.validate("nope")
