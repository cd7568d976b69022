from __future__ import annotations

import pytest

from emg.analysis.exercises import ExerciseConfig, exercise_preset
from emg.order import classify_order


@pytest.mark.parametrize(
    ("lead", "order"),
    [(-50.1, "hamstring-first"), (-50.0, "simultaneous"), (0, "simultaneous"),
     (50.0, "simultaneous"), (50.1, "glute-first")],
)  # fmt: skip
def test_order_margin(lead: float, order: str) -> None:
    assert classify_order(lead, 50.0) == order


def test_presets() -> None:
    assert exercise_preset("hip-thrust").flagged_order == "hamstring-first"
    assert exercise_preset("prone-hip-extension").flagged_order is None
    assert exercise_preset("squat").margin_ms == 100.0
    assert ExerciseConfig("custom", "hamstring-first").flagged_order == "glute-first"
    with pytest.raises(KeyError, match="known: hip-thrust"):
        exercise_preset("deadlift")
    with pytest.raises(ValueError, match="expected order"):
        ExerciseConfig("custom", "sideways")
    with pytest.raises(ValueError, match="count <= window"):
        ExerciseConfig(flag_count=4, flag_window=3)
