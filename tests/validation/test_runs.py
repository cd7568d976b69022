"""The validation runs' settings: checked before any set is generated, each error naming its
setting, the same for the command and the library."""

from __future__ import annotations

import pytest

from emg.dsp.chain_limits import SettingError
from emg.sources.families import family_names
from emg.validation.runs import family_grid, validation_grid


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        ({"seeds": 0}, "seeds"),
        ({"snr_db": []}, "snr_db"),
        ({"leads_ms": []}, "leads_ms"),
        ({"fs": 100.0}, "fs"),
        ({"reps": 0}, "reps"),
        ({"cramp_rep": -3}, "cramp_rep"),
    ],
)
def test_grid_settings_refused_by_name(settings: dict[str, object], setting: str) -> None:
    with pytest.raises(SettingError) as raised:
        validation_grid(**settings)  # type: ignore[arg-type]
    assert raised.value.setting == setting


def test_grid_defaults_and_overrides() -> None:
    grid = validation_grid(snr_db=[10], leads_ms=[-80, 80], seeds=2, reps=4, fs=1000)
    assert (grid.snr_db, grid.leads_ms, grid.seeds, grid.reps, grid.fs) == (
        (10.0,),
        (-80.0, 80.0),
        (0, 1),
        4,
        1000.0,
    )
    assert len(list(grid.sets())) == 2 * 2 + 2  # lead sets, then one cramp set per seed


@pytest.mark.parametrize(
    ("family", "settings", "setting"),
    [
        ("nope", {}, "family"),
        ("spectral", {"seeds": 0}, "seeds"),
        ("spectral", {"reps": 0}, "reps"),
        ("spectral", {"fs": 100.0}, "fs"),
        ("spectral", {"leads_ms": [1500.0]}, "leads_ms"),
    ],
)
def test_family_settings_refused_by_name(
    family: str, settings: dict[str, object], setting: str
) -> None:
    with pytest.raises(SettingError) as raised:
        family_grid(family, **settings)  # type: ignore[arg-type]
    assert raised.value.setting == setting


def test_family_grid_all_and_one_rate() -> None:
    assert family_grid("all").families == family_names()
    grid = family_grid("motor-unit", fs=2000, seeds=1)
    assert (grid.families, grid.fs, grid.seeds) == (("motor-unit",), (2000.0,), (0,))
