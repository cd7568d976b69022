"""Which channels make the glute/hamstring pairs, and which are left out of every rep."""

from __future__ import annotations

import pytest

from emg.analysis.pipeline import UnpairedChannel, muscle_pairs, unpaired_channels
from emg.block import Channel


def _channels(*names: str) -> tuple[Channel, ...]:
    return tuple(Channel.from_name(name) for name in names)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        # a glute without the hamstring of its side
        (
            ("glute_left", "hamstring_left", "glute_right"),
            [UnpairedChannel(2, "glute", "right")],
        ),
        # one side named, the other not: no pair at all
        (
            ("glute", "hamstring_left"),
            [UnpairedChannel(0, "glute", None), UnpairedChannel(1, "hamstring", "left")],
        ),
        # a second hamstring of a side: the first one is paired
        (
            ("glute_left", "biceps_femoris_left", "semitendinosus_left"),
            [UnpairedChannel(2, "hamstring", "left", paired_instead=1)],
        ),
        # both sides paired, other muscles never are and are not listed
        (("glute_left", "hamstring_left", "glute_right", "hamstring_right", "rf_left"), []),
        (("glute", "hamstring"), []),
    ],
)
def test_unpaired_channels_are_the_glutes_and_hamstrings_in_no_pair(
    names: tuple[str, ...], expected: list[UnpairedChannel]
) -> None:
    channels = _channels(*names)
    assert unpaired_channels(channels) == expected
    assert unpaired_channels(channels, muscle_pairs(channels)) == expected
    paired = {i for p in muscle_pairs(channels) for i in (p.glute, p.hamstring)}
    assert not paired & {u.channel for u in expected}
