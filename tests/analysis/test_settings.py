from __future__ import annotations

import json

import pytest

from emg.analysis.exercises import exercise_preset
from emg.analysis.normalisation import Normalisation
from emg.analysis.pipeline import AnalysisConfig
from emg.analysis.settings import settings_from_dict, settings_to_dict
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
    ],
)
def test_bad_settings_name_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_from_dict(values)
