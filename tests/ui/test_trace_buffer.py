"""The scrolling plot's ring buffer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emg.ui.trace_buffer import TraceBuffer


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 50),
    sizes=st.lists(st.integers(0, 70), min_size=1, max_size=12),
    gaps=st.lists(st.integers(0, 3), min_size=12, max_size=12),
)
def test_keeps_the_newest_samples_in_order(
    capacity: int, sizes: list[int], gaps: list[int]
) -> None:
    """Whatever the block sizes and gaps, the view is the last ``capacity`` samples of the
    stream, with NaN where samples never came."""
    buffer = TraceBuffer(capacity, 2)
    stream: list[float] = []
    start = 0
    for size, gap in zip(sizes, gaps, strict=False):
        start += gap
        stream.extend([np.nan] * gap)
        values = np.arange(start, start + size, dtype=np.float32)
        buffer.append(start, np.stack([values, -values], axis=1))
        stream.extend(values.tolist())
        start += size
    first, view = buffer.view()
    expected = np.array(stream[-capacity:] if stream else [], dtype=np.float32)
    assert buffer.stop == len(stream)
    assert first == max(0, len(stream) - capacity)
    np.testing.assert_array_equal(view[:, 0], expected)
    np.testing.assert_array_equal(view[:, 1], -expected)


def test_rejects_going_back_and_wrong_width() -> None:
    buffer = TraceBuffer(10, 1)
    buffer.append(0, np.zeros((5, 1)))
    with pytest.raises(ValueError, match="before the newest"):
        buffer.append(3, np.zeros((2, 1)))
    with pytest.raises(ValueError, match="expected"):
        buffer.append(5, np.zeros((2, 2)))
