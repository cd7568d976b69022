from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from emg.events import ANNOTATION_CHARS, Event, loss_events, loss_mask


@settings(max_examples=200, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 300), st.integers(1, 4))), st.integers(0, 5000))
def test_loss_events_describe_the_mask_exactly(mask: np.ndarray, offset: int) -> None:
    labels = [f"ch{i}" for i in range(mask.shape[1])]
    events = loss_events(mask, labels, 1000.0, offset)
    assert sum(e.data["stop"] - e.data["start"] for e in events) == int(mask.sum())
    whole = loss_mask(events, labels, 1000.0, offset + len(mask))
    np.testing.assert_array_equal(whole[offset:], mask)
    assert not whole[:offset].any()
    # the same events placed by time and duration alone (as from annotations)
    timed = [Event(e.time_s, "loss", e.description, e.duration_s, e.channel) for e in events]
    np.testing.assert_array_equal(loss_mask(timed, labels, 1000.0, offset + len(mask)), whole)


def test_annotation_round_trip_and_limits() -> None:
    event = Event(12.5, "rep-decided", "5 hamstring-first -90 ms", data={"index": 5})
    assert event.annotation == "rep-decided 5 hamstring-first -90 ms"
    assert len(Event(0.0, "mark", "x" * 80).annotation) == ANNOTATION_CHARS
    back = Event.from_annotation(12.5, 0.0, event.annotation)
    assert (back.kind, back.description) == ("rep-decided", "5 hamstring-first -90 ms")
    other = Event.from_annotation(1.0, 0.5, "Stimulus 3")
    assert (other.kind, other.description, other.duration_s) == ("other", "Stimulus 3", 0.5)
    assert Event.from_dict(event.to_dict()) == event


def test_invalid_events_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown event kind"):
        Event(0.0, "explosion")
    with pytest.raises(ValueError, match="finite"):
        Event(float("nan"), "mark")
    with pytest.raises(ValueError, match="negative"):
        Event(1.0, "loss", duration_s=-1.0)


def test_event_kind_of_text() -> None:
    from emg.events import EVENT_KINDS, event_kind

    assert [event_kind(kind) for kind in EVENT_KINDS] == list(EVENT_KINDS)
    assert event_kind("Flag") is None and event_kind("") is None
