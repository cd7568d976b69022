from __future__ import annotations

from pathlib import Path

import pytest

from emg.devices.profiles import full_uuid, load_profile, load_profiles
from emg.errors import EmgInputError

GOOD = """
name = "my-sensor"
description = "a new board speaking emg-stream v1"

[match]
names = ["MYEMG-*"]
services = ["e3a10001-0000-4000-8000-00805f9b34fb"]

[gatt]
service = "e3a10001-0000-4000-8000-00805f9b34fb"
notify = ["e3a10002-0000-4000-8000-00805f9b34fb"]
control = "e3a10003-0000-4000-8000-00805f9b34fb"
start = ["01"]
stop = ["02"]

[stream]
sample_rate = 1000
channels = 1
scale_uv = 4.028

[decoder]
kind = "emg-stream-v1"

[muscles]
default = ["glute"]
"""


def _write(tmp_path: Path, text: str, name: str = "sensor.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_profiles_load() -> None:
    profiles = load_profiles()
    assert {"emg-stream-v1", "ganglion", "myo", "myoware-shield", "bitalino"} <= set(profiles)
    for profile in profiles.values():
        assert profile.decoder().kind == profile.decoder_kind
        assert profile.notify and profile.sample_rate > 0


def test_a_new_sensor_needs_only_a_toml_file(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, GOOD))
    assert profile.name == "my-sensor" and profile.start == (b"\x01",)
    assert profile.muscles == ("glute",)
    assert load_profiles([tmp_path])["my-sensor"].path == tmp_path / "sensor.toml"
    assert full_uuid("FE84") == "0000fe84-0000-1000-8000-00805f9b34fb"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (('kind = "emg-stream-v1"', 'kind = "telepathy"'), "decoder", "unknown decoder kind"),
        (
            ('kind = "emg-stream-v1"', 'kind = "emg-stream-v1"\nspeed = 3'),
            "decoder",
            "unknown parameter",
        ),
        (('service = "e3a10001', 'service = "zz'), "gatt.service", "not a Bluetooth UUID"),
        (('start = ["01"]', 'start = ["0x1"]'), "gatt.start", "not hex bytes"),
        (("sample_rate = 1000", "sample_rate = -5"), "stream.sample_rate", "outside"),
        (("sample_rate = 1000", 'sample_rate = "fast"'), "stream.sample_rate", "must be a number"),
        (("channels = 1", "channels = 1.5"), "stream.channels", "whole number"),
        (
            ('default = ["glute"]', 'default = ["glute", "hamstring"]'),
            "muscles.default",
            "2 muscles for 1",
        ),
        (('default = ["glute"]', 'default = ["kneecap"]'), "muscles.default", "unknown muscle"),
        (("[stream]", "[streams]"), "stream", "missing table"),
        (('name = "my-sensor"', 'name = "my-sensor"\ncolour = "red"'), "colour", "unknown field"),
        (
            ('notify = ["e3a10002-0000-4000-8000-00805f9b34fb"]', "notify = []"),
            "gatt.notify",
            "must not be empty",
        ),
    ],
)
def test_bad_profiles_name_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str, message: str
) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(EmgInputError, match=message) as caught:
        load_profile(path)
    assert caught.value.field == field
    assert str(path) in str(caught.value)


def test_unreadable_and_duplicate_profiles(tmp_path: Path) -> None:
    with pytest.raises(EmgInputError, match="not valid TOML"):
        load_profile(_write(tmp_path, "name = ", "broken.toml"))
    (tmp_path / "broken.toml").unlink()
    _write(tmp_path, GOOD, "a.toml")
    _write(tmp_path, GOOD, "b.toml")
    with pytest.raises(EmgInputError, match="also used by"):
        load_profiles([tmp_path])
