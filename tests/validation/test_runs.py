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
        ({"cramp_rep": 7, "reps": 4}, "cramp_rep"),  # was lowered to 4 without a word
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
    # the default cramp rep (5) is the last rep of a shorter set, and the grid says so
    assert grid.cramp_rep == 4
    assert validation_grid(reps=4, cramp_rep=4).cramp_rep == 4


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


@pytest.mark.parametrize(
    ("family", "settings", "setting", "reason"),
    [
        # text was read as its characters: "20" ran 2 and 0 dB
        (None, {"snr_db": "20"}, "snr_db", "must be a list of numbers or one number, got '20'"),
        (None, {"leads_ms": "80"}, "leads_ms", "must be a list of numbers or one number"),
        (None, {"fs": "2000"}, "fs", "must be a list of numbers or one number, got '2000'"),
        ("own", {"fs": "2000"}, "fs", "must be a list of numbers or one number, got '2000'"),
        (None, {"leads_ms": ["a"]}, "leads_ms", "must be numbers, got ['a']"),
        (None, {"seeds": 1.5}, "seeds", "must be a whole number, got 1.5"),
        ("own", {"seeds": True}, "seeds", "must be a whole number, got True"),
        (None, {"reps": "3"}, "reps", "must be a whole number, got '3'"),
        ("own", {"reps": "3"}, "reps", "must be a whole number, got '3'"),
        # "cannot convert float NaN to integer"
        ("own", {"leads_ms": [float("nan")]}, "leads_ms", "must be finite numbers, got [nan]"),
        # ignored before: a family's conditions set their own SNRs
        ("own", {"snr_db": [5]}, "snr_db", "does not apply to a family validation"),
        # the own family's generator could not simulate it, and failed part-way
        ("own", {"leads_ms": [1000]}, "leads_ms", "1000 ms cannot be simulated by the own"),
        (None, {"fs": [1000, 2000]}, "fs", "the project's grid takes one sample rate"),
    ],
)
def test_values_of_the_wrong_kind_are_refused_by_name(
    family: str | None, settings: dict[str, object], setting: str, reason: str
) -> None:
    with pytest.raises(SettingError) as raised:
        if family is None:
            validation_grid(**settings)  # type: ignore[arg-type]
        else:
            family_grid(family, **settings)  # type: ignore[arg-type]
    assert raised.value.setting == setting and raised.value.reason.startswith(reason)


def test_one_number_is_a_list_of_one() -> None:
    # as the command's --snr-db 20 is (20,)
    assert validation_grid(snr_db=20, leads_ms=80, fs=[1000]) == validation_grid(
        snr_db=[20.0], leads_ms=(80,), fs=1000.0
    )
    assert family_grid("own", leads_ms=80, fs=1000).leads_ms == (80.0,)
    assert family_grid("spectral", leads_ms=[1000]).leads_ms == (1000.0,)  # its sets can
