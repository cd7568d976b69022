from __future__ import annotations

import numpy as np
import pytest

from emg.analysis.calibration import mvc_from_recording
from emg.analysis.normalisation import Normalisation, mvc_amplitude
from emg.dsp.chain import ChainConfig
from emg.sources.synthetic import SynthConfig, generate_session


def test_mvc_amplitude_is_best_half_second_mean() -> None:
    fs = 1000.0
    envelope = np.concatenate([np.full(2000, 10.0), np.full(400, 100.0), np.full(2000, 50.0)])
    # the 400-sample peak is shorter than the window: best 500-sample mean takes 100 of 50s
    assert mvc_amplitude(envelope, fs) == pytest.approx((400 * 100 + 100 * 50) / 500)
    with pytest.raises(ValueError, match="shorter than"):
        mvc_amplitude(envelope[:100], fs)


def test_normalisation_methods() -> None:
    assert Normalisation().method() == "rest" and Normalisation().unit() == "x rest"
    both = Normalisation({"glute": 200.0, "hamstring": 100.0})
    assert both.method() == "mvc" and both.reference("glute", 3.0) == 2.0
    with pytest.raises(ValueError, match="not for hamstring"):
        Normalisation({"glute": 200.0}).method()
    with pytest.raises(ValueError, match="must be > 0"):
        Normalisation({"glute": -1.0})


def test_mvc_trial_gives_the_true_mvc() -> None:
    # a trial at full activation: its envelope plateau is the generator's MVC amplitude
    trial = generate_session(
        SynthConfig(reps=1, glute_level=1.0, hamstring_level=1.0, snr_db=30, seed=2, active_s=2.0,
                    rep_period_s=3.0, lead_ms=0.0, level_jitter=0.0)
    )  # fmt: skip
    truth = trial.truth["mvc_uv"]["glute"]
    value = mvc_from_recording(trial.recording, "glute", ChainConfig())
    # the plateau carries a +-15 % bell (the concentric peak) and the band-pass trims ~3 %
    assert 1.0 * truth < value < 1.2 * truth
    with pytest.raises(ValueError, match="outside the recording"):
        mvc_from_recording(trial.recording, "glute", ChainConfig(), (5.0, 99.0))


def test_a_channel_with_no_signal_gives_an_mvc_below_the_bound() -> None:
    """The bound :func:`emg.settings_resolution.normalisation` refuses an MVC trial's channel
    under: a flat or stuck channel falls below it, the quietest real trial far above."""
    from emg.analysis.normalisation import MIN_MVC_UV
    from emg.analysis.signal_quality import FLAT_SD_UV
    from emg.recording import Recording

    assert MIN_MVC_UV == FLAT_SD_UV
    trial = generate_session(SynthConfig(reps=1, seed=2, snr_db=0)).recording
    assert mvc_from_recording(trial, "glute", ChainConfig()) > 10 * MIN_MVC_UV
    for value in (0.0, 250.0):  # all zeros, or stuck at one value
        data = trial.data.copy()
        data[:, 0] = value
        flat = Recording(data, trial.sample_rate, trial.channels)
        assert mvc_from_recording(flat, "glute", ChainConfig()) < MIN_MVC_UV
