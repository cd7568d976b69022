import pytest

from emg.block import Channel
from emg.muscles import parse_muscle_name


@pytest.mark.parametrize(
    ("name", "muscle", "side", "group"),
    [
        ("glute", "glute", None, "glute"),
        ("Hamstring_Left", "hamstring", "left", "hamstring"),
        ("glutes_r", "glute", "right", "glute"),
        ("biceps-femoris", "biceps_femoris", None, "hamstring"),
        ("ST", "semitendinosus", None, "hamstring"),
        ("rectus_femoris", "rectus_femoris", None, "other"),
    ],
)
def test_parse_muscle_names(name: str, muscle: str, side: str | None, group: str) -> None:
    parsed = parse_muscle_name(name)
    assert (parsed.muscle, parsed.side, parsed.group) == (muscle, side, group)


def test_unknown_muscle_suggests_close_names() -> None:
    with pytest.raises(KeyError, match="did you mean glute"):
        parse_muscle_name("glutte")


def test_channel_label_is_canonical() -> None:
    assert Channel.from_name("Hamstrings_Right").label == "hamstring_right"
