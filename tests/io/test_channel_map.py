from __future__ import annotations

import pytest

from emg.errors import EmgInputError
from emg.io.channel_map import (
    LIBRARY_CHANNELS,
    SourceChannel,
    channels_named,
    map_channels,
    parse_channel_overrides,
    unit_scale,
)


def test_names_hints_and_skipped_channels() -> None:
    found = [
        SourceChannel("Status", kind="EMG"),
        SourceChannel("EMG1", muscle="gluteus maximus".replace(" ", "_"), side="Left"),
        SourceChannel("BF_R"),
        SourceChannel("accel_x", kind="ACCEL"),
    ]
    taken = map_channels(found, None, "f.bdf")
    assert [(i, c.label, c.muscle, c.side) for i, c in taken] == [
        (1, "glute_left", "glute", "left"),
        (2, "biceps_femoris_right", "biceps_femoris", "right"),
    ]


def test_overrides_select_in_order_and_ignore_case() -> None:
    found = [SourceChannel("EMG 1"), SourceChannel("EMG 2"), SourceChannel("EMG 3")]
    overrides = parse_channel_overrides(["hamstring_left=emg 3", "glute_left=EMG 1"])
    taken = map_channels(found, overrides, "f.xdf")
    assert [(i, c.label) for i, c in taken] == [(2, "hamstring_left"), (0, "glute_left")]


@pytest.mark.parametrize(
    ("found", "overrides", "message"),
    [
        ([SourceChannel("EMG1")], None, "unknown muscle 'EMG1'.*--channel glute="),
        ([SourceChannel("EMG1")], {"glute": "EMG9"}, "no channel 'EMG9' \\(channels: EMG1\\)"),
        (
            [SourceChannel("EMG1"), SourceChannel("EMG2")],
            {"glute": "EMG1", "hamstring": "emg1"},
            "channel 'EMG1' is given for both 'glute' and 'hamstring'",
        ),
        ([SourceChannel("glute"), SourceChannel("gmax")], None, "are all 'glute'"),
        ([SourceChannel("x", kind="ECG")], None, "no EMG channel"),
    ],
)
def test_clear_errors(
    found: list[SourceChannel], overrides: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(EmgInputError, match=message) as caught:
        map_channels(found, overrides, "rec.bdf")
    assert "rec.bdf" in str(caught.value)


def test_override_and_unit_parsing() -> None:
    for bad, message in (("glute", "MUSCLE=CHANNEL"), ("knee=EMG1", "unknown muscle")):
        with pytest.raises(EmgInputError, match=message):
            parse_channel_overrides([bad])
    with pytest.raises(EmgInputError, match="given twice"):
        parse_channel_overrides(["glute=A", "gmax=B"])
    assert unit_scale("mV", "f", "c") == 1000.0 and unit_scale("µV", "f", "c") == 1.0
    with pytest.raises(EmgInputError, match="not a voltage"):
        unit_scale("g", "f", "accel")


#: (found, overrides, what the command line's message says, what the library's says)
NAMING_CASES = [
    (
        [SourceChannel("EMG1")],
        {"glute": "EMG9"},
        "rec.bdf, column '--channel glute=EMG9': no channel 'EMG9' (channels: EMG1)",
        "rec.bdf, column 'channels={\"glute\": \"EMG9\"}': no channel 'EMG9' (channels: EMG1)",
    ),
    (
        [SourceChannel("EMG1"), SourceChannel("EMG2")],
        {"glute": "EMG1", "hamstring": "emg1"},
        "column '--channel hamstring=emg1': channel 'EMG1' is given for both",
        "column 'channels={\"hamstring\": \"emg1\"}': channel 'EMG1' is given for both",
    ),
    (
        [SourceChannel("EMG1")],
        None,
        "Name the muscles with --channel glute=<name> --channel hamstring=<name> (channels: EMG1)",
        'Name the muscles with channels={"glute": "<name>", "hamstring": "<name>"} (channels: '
        "EMG1)",
    ),
    (
        [SourceChannel("glute"), SourceChannel("gmax")],
        None,
        "are all 'glute'; pick one with --channel glute=<name>",
        'are all \'glute\'; pick one with channels={"glute": "<name>"}',
    ),
    (
        [SourceChannel("x", kind="ECG")],
        None,
        "no EMG channel found (channels: x); name them with --channel glute=<name> --channel "
        "hamstring=<name>",
        'no EMG channel found (channels: x); name them with channels={"glute": "<name>", '
        '"hamstring": "<name>"}',
    ),
]


@pytest.mark.parametrize(("found", "overrides", "command_line", "library"), NAMING_CASES)
def test_messages_name_the_overrides_as_the_caller_gives_them(
    found: list[SourceChannel], overrides: dict[str, str] | None, command_line: str, library: str
) -> None:
    with pytest.raises(EmgInputError) as caught:
        map_channels(found, overrides, "rec.bdf")
    assert command_line in str(caught.value)
    with channels_named(LIBRARY_CHANNELS), pytest.raises(EmgInputError) as caught:
        map_channels(found, overrides, "rec.bdf")
    assert library in str(caught.value) and "--channel" not in str(caught.value)
    # the command line's wording is back once the library's call is over
    with pytest.raises(EmgInputError, match="--channel"):
        map_channels(found, overrides, "rec.bdf")
