from __future__ import annotations

import numpy as np
import pytest

from emg.sources.families import simulate_family
from emg.sources.family_conditions import FamilyCondition
from emg.sources.own_family import own_config
from emg.sources.synthetic import generate_session


def _active_snr_db(session_data: np.ndarray, rep: dict, muscle: str, fs: float) -> float:
    column = 0 if muscle == "glute" else 1
    x = session_data[:, column].astype(float)
    on, off = rep[f"{muscle}_onset_s"], rep[f"{muscle}_offset_s"]
    active = x[round((on + 0.3) * fs) : round((off - 0.3) * fs)]
    rest = x[round(0.2 * fs) : round(1.8 * fs)]
    noise = np.mean(rest**2)
    return float(10 * np.log10((np.mean(active**2) - noise) / noise))


def test_each_muscle_gets_its_own_snr_ramp_and_the_lead() -> None:
    condition = FamilyCondition(
        fs=1000.0,
        reps=3,
        lead_ms=-80.0,
        glute_snr_db=5.0,
        hamstring_snr_db=20.0,
        glute_ramp_s=(0.15, 0.25),
    )
    session = simulate_family("own", condition, 2)
    data, truth = session.recording.data, session.truth
    for muscle, column in (("glute", 0), ("hamstring", 1)):
        run = generate_session(own_config(condition, 2, muscle))
        # each channel is its muscle's channel of the generator's run, sample for sample
        np.testing.assert_array_equal(data[:, column], run.recording.data[:, column])
        assert truth["config"]["synth_config"][muscle]["ramp_s"] == pytest.approx(
            np.mean(condition.ramp_s(muscle))
        )
    assert truth["snr_db"] == {"glute": 5.0, "hamstring": 20.0}
    # 15 dB apart in amplitude at the mean level: mvc ratio = 10^(15/20) x level ratio
    assert truth["mvc_uv"]["hamstring"] / truth["mvc_uv"]["glute"] == pytest.approx(
        10 ** (15 / 20) * 0.6 / 0.4
    )
    rep = truth["reps"][0]
    assert _active_snr_db(data, rep, "hamstring", 1000.0) == pytest.approx(20.0, abs=1.5)
    assert _active_snr_db(data, rep, "glute", 1000.0) == pytest.approx(5.0, abs=1.5)
    assert [r["lead_ms"] for r in truth["reps"]] == [-80.0] * 3
    assert abs(rep["hamstring_onset_s"] - condition.first_onset_s) <= 0.2
    assert data.dtype == np.float32 and session.recording.sample_rate == 1000.0
