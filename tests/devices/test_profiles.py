from __future__ import annotations

import re
from pathlib import Path

import pytest

from emg.cli import main
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
        (
            ("[stream]", "[streams]"),
            "streams",
            "unknown key 'streams' in the top level; did you mean 'stream'?",
        ),
        (("[stream]", "[extra]"), "stream", "missing table"),
        (
            ('name = "my-sensor"', 'name = "my-sensor"\ncolour = "red"'),
            "colour",
            "unknown key 'colour' in the top level (known: ",
        ),
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
    with pytest.raises(EmgInputError, match=re.escape(message)) as caught:
        load_profile(path)
    assert caught.value.field == field
    assert str(path) in str(caught.value)


KNOWN_GATT = "battery, control, notify, service, start, stop, write_with_response"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            ('stop = ["02"]', 'stop = ["02"]\nbatery = "2a19"'),
            "gatt.batery",
            f"unknown key 'batery' in [gatt]; did you mean 'battery'? (known: {KNOWN_GATT})",
        ),
        (
            ("scale_uv = 4.028", "scale_uv = 4.028\nsample_rte = 500"),
            "stream.sample_rte",
            "unknown key 'sample_rte' in [stream]; did you mean 'sample_rate'?"
            " (known: channels, sample_rate, scale_uv)",
        ),
        (
            ('names = ["MYEMG-*"]', 'names = ["MYEMG-*"]\nname = "x"'),
            "match.name",
            "unknown key 'name' in [match]; did you mean 'names'? (known: names, services)",
        ),
        (
            ('default = ["glute"]', 'default = ["glute"]\nright = ["hamstring"]'),
            "muscles.right",
            "unknown key 'right' in [muscles] (known: default)",
        ),
        (
            ('name = "my-sensor"', 'name = "my-sensor"\ndecription = "x"'),
            "decription",
            "unknown key 'decription' in the top level; did you mean 'description'?",
        ),
        (
            ('name = "my-sensor"', 'name = "my-sensor"\nextra = 5'),
            "extra",
            "must be a table",
        ),
        (
            ('stop = ["02"]', 'stop = ["02"]\nwrite_with_response = "false"'),
            "gatt.write_with_response",
            "must be true or false (without quotes), not 'false'",
        ),
        (
            ('stop = ["02"]', 'stop = ["02"]\nwrite_with_response = 0'),
            "gatt.write_with_response",
            "must be true or false (without quotes), not 0",
        ),
        (
            ('description = "a new board speaking emg-stream v1"', "description = 3"),
            "description",
            "must be a string, not 3",
        ),
        (
            ('kind = "emg-stream-v1"', 'kind = "ganglion"\nfirmwre = 3'),
            "decoder",
            "unknown parameter(s) firmwre for decoder 'ganglion'; did you mean 'firmware'?",
        ),
    ],
)
def test_profiles_reject_unknown_keys_and_wrong_types(
    tmp_path: Path, change: tuple[str, str], field: str, message: str
) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    assert GOOD.replace(*change) != GOOD
    with pytest.raises(EmgInputError) as caught:
        load_profile(path)
    assert caught.value.field == field
    assert message in caught.value.detail
    assert str(caught.value).startswith(f"{path}, ")
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


def test_a_profile_error_is_one_line_from_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GOOD.replace('stop = ["02"]', 'stop = ["02"]\nbatery = "2a19"'))
    assert main(["profiles", "--dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"emg: error: {path}, column 'gatt.batery': unknown key 'batery' in [gatt];"
        f" did you mean 'battery'? (known: {KNOWN_GATT})\n"
    )


def test_write_with_response_false_loads_as_false(tmp_path: Path) -> None:
    text = GOOD.replace('stop = ["02"]', 'stop = ["02"]\nwrite_with_response = false')
    assert load_profile(_write(tmp_path, text)).write_with_response is False
    assert load_profile(_write(tmp_path, GOOD, "b.toml")).write_with_response is True


def test_unreadable_and_duplicate_profiles(tmp_path: Path) -> None:
    with pytest.raises(EmgInputError, match="not valid TOML"):
        load_profile(_write(tmp_path, "name = ", "broken.toml"))
    (tmp_path / "broken.toml").unlink()
    _write(tmp_path, GOOD, "a.toml")
    _write(tmp_path, GOOD, "b.toml")
    with pytest.raises(EmgInputError, match="also used by"):
        load_profiles([tmp_path])


def test_a_users_folder_replaces_a_built_in_profile(tmp_path: Path) -> None:
    shipped = load_profiles()["emg-stream-v1"].path.read_text()
    assert 'start = ["06 0a", "01"]' in shipped
    bigger = shipped.replace('start = ["06 0a", "01"]', 'start = ["06 00", "01"]')
    _write(tmp_path, bigger, "x.toml")
    _write(tmp_path, GOOD, "mine.toml")
    profiles = load_profiles(extra=[tmp_path])
    assert profiles["emg-stream-v1"].start == (b"\x06\x00", b"\x01")
    assert profiles["emg-stream-v1"].path == tmp_path / "x.toml"
    assert profiles["my-sensor"].muscles == ("glute",)
    assert set(load_profiles()) | {"my-sensor"} == set(profiles)


def test_a_missing_folder_of_profiles_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(EmgInputError, match="no such folder of sensor profiles"):
        load_profiles(extra=[missing])
    assert main(["scan", "--profiles", str(missing)]) == 2
    assert capsys.readouterr().err == f"emg: error: {missing}: no such folder of sensor profiles\n"


def test_profiles_lists_what_scan_and_record_load_with_profiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--profiles DIR`` lists the built-in profiles with DIR's (one there replacing the
    built-in of its name, named with its folder), as scan, record and live load them;
    ``--dir DIR`` lists DIR's alone."""
    built_in = load_profiles()
    own = _write(tmp_path, GOOD.replace('name = "my-sensor"', 'name = "emg-stream-v1"'))
    assert load_profile(own).name == "emg-stream-v1"
    capsys.readouterr()
    assert main(["profiles", "--profiles", str(tmp_path)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert sorted(row[0] for row in rows) == sorted(built_in)
    files = {row[0]: row[-1] for row in rows}
    assert files["emg-stream-v1"] == str(own)
    assert files["bitalino"] == "bitalino.toml"
    assert main(["profiles", "--dir", str(tmp_path)]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == [
        "emg-stream-v1"
    ]
