"""The settings of one recording (:func:`emg.settings_resolution.resolve_settings`): a rest
period and MVC references the recording cannot give are refused, naming what was given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import emg
from emg.analysis.normalisation import MIN_MVC_UV
from emg.dsp.chain import ChainConfig
from emg.dsp.chain_limits import SettingError
from emg.io.csv_format import write_emg_csv
from emg.recording import Recording
from emg.settings_resolution import library_overrides, normalisation, resolve_settings
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
