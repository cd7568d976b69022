from __future__ import annotations

import json

import pytest

from emg.analysis.exercises import exercise_preset
from emg.analysis.normalisation import Normalisation
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.reps import RepConfig
from emg.analysis.settings import SettingError, settings_from_dict, settings_to_dict
from emg.dsp.chain import ChainConfig


def test_settings_survive_json() -> None:
    config = AnalysisConfig(
        chain=ChainConfig(mains_hz=60.0, rest=(0.5, 2.5), detector="tkeo", k=2.5),
        exercise=exercise_preset("squat"),
        normalisation=Normalisation({"glute": 310.0, "hamstring": 250.0}),
    )
    assert settings_from_dict(json.loads(json.dumps(settings_to_dict(config)))) == config
    assert settings_from_dict({}) == AnalysisConfig()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"chains": {}}, "unknown settings part"),
        ({"chain": {"envelope": 0.05}}, "unknown setting.*envelope.*'chain'"),
        ({"chain": [1]}, "must be a mapping"),
        ({"exercise": {"expected_order": "knees-first"}}, "invalid settings in 'exercise'"),
        ([1], "^analysis: the settings must be a mapping of parts, got list$"),
        ({"chain": {"hold_s": 1e9}}, r"^chain\.hold_s: the onset hold time must be from 1 ms"),
        ({"chain": {"highpass_hz": "abc"}}, r"^chain\.highpass_hz: .* must be a number, got 'abc'"),
        ({"chain": {"bandpass_order": 1000}}, r"^chain\.bandpass_order: .* from 2 to 12, got 1000"),
        ({"chain": {"k": -5}}, r"^chain\.k: the onset threshold .* above 0 and at most 50"),
        ({"chain": {"rest": [3, 1]}}, r"^chain\.rest: the rest period must start at 0 s"),
        ({"chain": {"rest": [0, 0.01]}}, r"^chain\.rest: .* at least 0\.5 s, got 0-0\.01 s$"),
        ({"reps": {"max_rep_s": 1e12}}, r"^reps\.max_rep_s: the longest rep must be above 0"),
        ({"reps": {"start_weight": 2}}, r"^reps\.start_weight: the rise-start weight .* 0 to 1"),
        ({"reps": {"lead": "mean"}}, r"^reps\.lead: unknown lead 'mean' \(known: steady, edges\)"),
        ({"exercise": {"flag_count": 2.5}}, r"^exercise\.flag_count: .* a whole number, got 2\.5"),
        ({"normalisation": {"mvc_uv": {"glute": -1}}}, r"^normalisation\.mvc_uv\.glute: "),
    ],
)
def test_bad_settings_name_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_from_dict(values)


def test_sessions_recorded_before_the_refinement_setting_replay_with_the_cusum() -> None:
    edge = AnalysisConfig(chain=ChainConfig().with_refinement("edge"))
    stored = settings_to_dict(edge)
    assert settings_from_dict(stored).chain.refinement == "edge"
    assert settings_from_dict(stored).chain.refine_s == 0.4
    del stored["chain"]["refinement"]  # as written before the setting existed
    assert settings_from_dict(stored).chain.refinement == "cusum"
    del stored["chain"]["refine_s"]  # and its span, then the CUSUM's
    assert settings_from_dict(stored).chain.refine_s == 0.150
    # sessions recorded with today's default (the edge near the change point) keep it
    today = settings_from_dict(settings_to_dict(AnalysisConfig()))
    assert (today.chain.refinement, today.chain.refine_s) == ("cusum-edge", 0.180)
    with pytest.raises(SettingError, match="refinement"):
        ChainConfig().with_refinement("tenan")
    with pytest.raises(SettingError, match="refinement"):
        settings_from_dict({"chain": {"refinement": "tenan"}})
    # nor took crosstalk out, which came later still
    del stored["chain"]["remove_crosstalk"]
    assert settings_from_dict(stored).chain.remove_crosstalk is False
    assert settings_from_dict(settings_to_dict(edge)).chain.remove_crosstalk is True
    with pytest.raises(SettingError, match="remove_crosstalk"):
        settings_from_dict({"chain": {"remove_crosstalk": "yes"}})
    # nor bridged lost samples with the mains cycle, which came last
    del stored["chain"]["mains_bridge"]
    assert settings_from_dict(stored).chain.mains_bridge is False
    assert settings_from_dict(settings_to_dict(edge)).chain.mains_bridge is True
    with pytest.raises(SettingError, match="mains_bridge"):
        settings_from_dict({"chain": {"mains_bridge": 1}})
    posterior = settings_from_dict(
        {
            "chain": {
                "refinement": "bayes",
                "refine_s": 0.4,
                "remove_crosstalk": True,
                "mains_bridge": True,
            }
        }
    )
    assert posterior.chain == ChainConfig().with_refinement("bayes")


def test_sessions_recorded_before_the_lead_setting_replay_with_the_edges_lead() -> None:
    # the fitted edges then moved the lead towards theirs, as the default still does
    steady = AnalysisConfig(
        chain=ChainConfig().with_refinement("bayes"), reps=RepConfig(lead="steady")
    )
    stored = settings_to_dict(steady)
    assert settings_from_dict(stored).reps.lead == "steady"
    del stored["reps"]["lead"]
    assert settings_from_dict(stored).reps.lead == "edges" == RepConfig().lead
    # nor the rise starts in the lead, which came after
    assert settings_from_dict(stored).reps.start_weight == 0.25 == RepConfig().start_weight
    del stored["reps"]["start_weight"]
    assert settings_from_dict(stored).reps.start_weight == 0.0
    with pytest.raises(SettingError, match=r"reps\.lead.*unknown lead 'mean'"):
        settings_from_dict({"reps": {"lead": "mean"}})
