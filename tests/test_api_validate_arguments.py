"""``emg.validate`` refuses arguments it cannot use (text read as its characters, fractions for
counts, an argument that does not apply) naming them, before any set is simulated."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

import emg
from emg.dsp.chain_limits import SettingError


@pytest.mark.parametrize(
    ("family", "arguments", "message"),
    [
        (None, {"snr_db": "20"}, "snr_db: must be a list of numbers or one number, got '20'"),
        (None, {"leads_ms": "80"}, "leads_ms: must be a list of numbers or one number"),
        ("own", {"fs": "2000"}, "fs: must be a list of numbers or one number, got '2000'"),
        (None, {"fs": "2000"}, "fs: must be a list of numbers or one number, got '2000'"),
        (None, {"seeds": 1.5}, "seeds: must be a whole number, got 1.5"),
        (None, {"reps": "3"}, "reps: must be a whole number, got '3'"),
        ("own", {"leads_ms": [math.nan]}, "leads_ms: must be finite numbers, got [nan]"),
        ("own", {"snr_db": [5]}, "snr_db: does not apply to a family validation: each family"),
        ("own", {"leads_ms": [1000]}, "leads_ms: 1000 ms cannot be simulated by the own family"),
    ],
)
def test_an_argument_that_cannot_be_used_is_named(
    family: str | None, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingError) as raised:
        emg.validate(family, **arguments)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_one_number_is_taken_as_the_command_takes_it() -> None:
    # emg validate --snr-db 20 --lead-ms 80 is a grid of one SNR and one lead
    one = emg.validate(snr_db=20, leads_ms=80, seeds=1, reps=3)
    listed = emg.validate(snr_db=[20], leads_ms=[80], seeds=1, reps=3)
    for name, table in listed.items():
        pd.testing.assert_frame_equal(one[name], table)
    assert list(one["onsets"]["snr_db"]) == [20.0]
